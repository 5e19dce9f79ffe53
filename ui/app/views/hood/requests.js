// Join requests: one compact row per request, with search, sort and the history captains should
// see before deciding; details (answers, consent) open in the row. A decision is held here for a
// few seconds with Undo before it reaches the server, so a neighbor never gets a text that is
// then taken back; it is sent at once when the toast goes, the view closes or the page is left.
// Checked rows are approved or denied together; Deny always asks first.

import { api, ApiError, errorText } from '../../api.js';
import { h, field, when, timeAgo, phoneText, toast, keepClear, uid } from '../../dom.js';
import { coalesce } from '../../live.js';
import { t, tParts } from '../../i18n.js';

/** How each request came in (message ids). */
const CHANNELS = {
  web: 'app-requests-channel-web',
  sms: 'app-requests-channel-sms',
  invite: 'app-requests-channel-invite',
  import: 'app-requests-channel-import',
  captain: 'app-requests-channel-captain',
  form: 'app-requests-channel-form',
};

const STATES = [
  ['pending', 'app-requests-state-pending'],
  ['pending_verification', 'app-requests-state-verification'],
  ['approved', 'app-requests-state-approved'],
  ['denied', 'app-requests-state-denied'],
];

const SORTS = [
  ['newest', 'app-requests-sort-newest'],
  ['oldest', 'app-requests-sort-oldest'],
  ['name', 'app-requests-sort-name'],
];

/** [value, message id] pairs as a select's options. */
const options = (pairs) => pairs.map(([value, id]) => [value, t(id)]);

/** How long a decision waits for Undo before it is sent. */
const UNDO_MS = 6000;

/** "phone:+15550000001" as people read it; tokens and the system by what they are. */
function actorText(actor) {
  const [kind, value] = actor.split(/:(.*)/s);
  if (kind === 'phone') return phoneText(value);
  if (kind === 'token') return t('app-requests-by-token');
  if (kind === 'policy') return t('app-requests-by-policy');
  return actor;
}

/** Lower case, accents off: "Núñez" is found by "nunez". */
const folded = (text) => (text ?? '').normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
const digits = (text) => (text ?? '').replace(/\D/g, '');

const shortDate = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

/** The history flags of a request, in words: [text, serious]. */
function flagsOf(request) {
  const history = request.history ?? {};
  const flags = [];
  if (history.blocked) flags.push([t('app-requests-flag-blocked', { who: history.blocked.by }), true]);
  if (history.paused) flags.push([t('app-requests-flag-paused', { what: history.paused }), true]);
  if (history.removed ?? request.previously) {
    flags.push([t('app-requests-flag-removed', { what: history.removed ?? request.previously }), true]);
  }
  if (history.denied_before) {
    flags.push([t('app-requests-flag-denied', {
      date: shortDate.format(new Date(history.denied_before.at)), who: history.denied_before.by,
    }), false]);
  }
  if (history.same_name_as) flags.push([t('app-requests-flag-same-name', { name: history.same_name_as }), false]);
  return flags;
}

/**
 * An accessible modal dialog; resolves with the reason typed (maybe '') when confirmed, null when
 * cancelled. `reason` adds the optional reason box.
 */
function confirmDialog({ title, text, confirmLabel, danger = false, reason = false }) {
  return new Promise((resolve) => {
    const titleId = uid('dialog-title');
    const textId = uid('dialog-text');
    const box = reason ? field({ label: t('app-requests-reason'), name: 'reason', type: 'textarea', hint: t('app-requests-reason-hint') }) : null;
    const confirm = h('button', { type: 'submit', class: danger ? 'danger primary' : 'primary', value: 'confirm' }, confirmLabel);
    const cancel = h('button', { type: 'button' }, t('app-requests-cancel'));
    const opener = document.activeElement;
    const dialog = h('dialog', { 'aria-labelledby': titleId, 'aria-describedby': textId },
      h('form', { method: 'dialog' },
        h('h2', { id: titleId }, title),
        h('p', { id: textId }, text),
        box,
        h('div', { class: 'actions' }, confirm, cancel)));
    let answer = null;
    confirm.addEventListener('click', () => { answer = box ? box.control.value.trim() : ''; });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (answer === null && opener?.isConnected) opener.focus();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
    (box?.control ?? confirm).focus();
  });
}

export default async function requests(container, ctx) {
  const canDecide = ctx.atLeast('captain');
  const neighborhoodName = ctx.neighborhood.name;
  const heading = h('h2', { id: 'tab-heading', tabindex: '-1' }, t('app-requests-title'));
  const show = field({ label: t('app-requests-show'), name: 'state', type: 'select', value: 'pending', options: options(STATES) });
  const search = field({ label: t('app-requests-search'), name: 'q', type: 'search', attrs: {
    placeholder: t(canDecide ? 'app-requests-search-placeholder-captain' : 'app-requests-search-placeholder'), autocomplete: 'off',
  } });
  const sort = field({ label: t('app-requests-sort'), name: 'sort', type: 'select', value: 'newest', options: options(SORTS) });
  const list = h('ul', { class: 'requests', 'aria-labelledby': 'tab-heading' });
  const status = h('p', { class: 'empty', role: 'status' });
  const selectAll = h('input', { type: 'checkbox', id: uid('all') });
  const approveSelected = h('button', { type: 'button', class: 'primary' });
  const denySelected = h('button', { type: 'button', class: 'danger' });
  const bulk = h('div', { class: 'bulk', hidden: true },
    h('label', { class: 'request-pick', for: selectAll.id }, selectAll, h('span', {}, t('app-requests-select-all'))),
    approveSelected, denySelected);
  const outcome = h('div', { role: 'status' });
  container.append(
    heading,
    h('div', { class: 'filters' }, show, search, sort),
    bulk, outcome, status, list,
  );

  let items = [];
  const selected = new Set();
  /** Requests whose details are open, kept open across redraws. */
  const expanded = new Set();
  /** Decisions waiting for Undo: request id -> { request, action, reason, sent }. */
  const held = new Map();

  // ---- sending decisions ----

  const send = async (decision, { keepalive = false } = {}) => {
    if (decision.sent) return;
    decision.sent = true;
    const { request, action, reason } = decision;
    try {
      if (action === 'approve') {
        await api(`neighborhoods/${ctx.id}/join-requests/${request.id}/approve`, { method: 'POST', keepalive });
      } else {
        const out = await api(`neighborhoods/${ctx.id}/join-requests/deny`, {
          method: 'POST', keepalive, body: { request_ids: [request.id], reason: reason || undefined },
        });
        const [refused] = out.refused;
        if (refused) throw new ApiError(409, refused.error.code, refused.error.message);
      }
    } catch (error) {
      held.delete(request.id);
      if (keepalive) return;
      render();
      toast(t('app-requests-failed', { name: request.name, error: errorText(error) }), { error: true });
      return;
    }
    held.delete(request.id);
    if (keepalive) return;
    await refresh();
    ctx.refreshCount();
  };
  const sendAll = (options) => { for (const decision of held.values()) send(decision, options); };
  const onPageHide = () => sendAll({ keepalive: true });
  window.addEventListener('pagehide', onPageHide);

  /** Where focus goes once `request` leaves the list: the next row, else the one before, else the heading. */
  const focusAfter = (id) => {
    const rows = [...list.children];
    const at = rows.findIndex((row) => row.dataset.request === id);
    const nextId = (rows[at + 1] ?? rows[at - 1])?.dataset.request;
    return () => {
      const next = nextId ? list.querySelector(`[data-request="${CSS.escape(nextId)}"]`) : null;
      const target = next
        ? (next.querySelector('[data-key="approve"]') ?? next.querySelector('[data-key="details"]'))
        : heading;
      target.focus();
      if (target !== heading) keepClear(target);
    };
  };

  const decide = async (request, action) => {
    let reason = '';
    if (action === 'deny') {
      reason = await confirmDialog({
        title: t('app-requests-deny-title', { who: request.name }),
        text: t('app-requests-deny-text', { name: request.name, neighborhood: neighborhoodName }),
        confirmLabel: t('app-requests-deny'),
        danger: true,
        reason: true,
      });
      if (reason === null) return;
    }
    const moveFocus = focusAfter(request.id);
    const decision = { request, action, reason, sent: false };
    held.set(request.id, decision);
    selected.delete(request.id);
    render();
    toast(action === 'approve'
      ? t('app-requests-approved', { name: request.name })
      : t('app-requests-denied', { name: request.name }), {
      action: { label: t('app-requests-undo'), run: () => undo(decision) },
      duration: UNDO_MS,
      onClose: (how) => { if (how !== 'action') send(decision); },
    });
    moveFocus();
  };

  const undo = (decision) => {
    if (decision.sent) return;
    held.delete(decision.request.id);
    render();
    toast(t('app-requests-undone', { name: decision.request.name }));
    list.querySelector(`[data-request="${CSS.escape(decision.request.id)}"] [data-key="approve"]`)?.focus();
  };

  // ---- bulk ----

  const shownPending = () => visible().filter((request) => request.state === 'pending');

  const bulkDecide = async (action) => {
    const chosen = shownPending().filter((request) => selected.has(request.id));
    if (chosen.length === 0) return;
    const count = chosen.length;
    const who = count === 1 ? chosen[0].name : t('app-requests-neighbors', { count });
    const reason = await confirmDialog(action === 'approve'
      ? {
        title: t('app-requests-approve-title', { who }),
        text: t('app-requests-approve-many-text'),
        confirmLabel: t('app-requests-approve-count', { count }),
      }
      : {
        title: t('app-requests-deny-title', { who }),
        text: t('app-requests-deny-many-text', { neighborhood: neighborhoodName }),
        confirmLabel: t('app-requests-deny-count', { count }),
        danger: true,
        reason: true,
      });
    if (reason === null) return;
    const button = action === 'approve' ? approveSelected : denySelected;
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    try {
      const ids = chosen.map((request) => request.id);
      let done = 0;
      const refused = [];
      // The API takes 1,000 at a time.
      for (let start = 0; start < ids.length; start += 1000) {
        const out = await api(`neighborhoods/${ctx.id}/join-requests/${action}`, {
          method: 'POST',
          body: action === 'approve'
            ? { request_ids: ids.slice(start, start + 1000) }
            : { request_ids: ids.slice(start, start + 1000), reason: reason || undefined },
        });
        done += (action === 'approve' ? out.approved : out.denied).length;
        refused.push(...out.refused);
      }
      for (const id of ids) selected.delete(id);
      const vars = { count: done, refused: refused.length, error: refused[0]?.error.message };
      toast(action === 'approve'
        ? t(refused.length ? 'app-requests-approved-many-refused' : 'app-requests-approved-many', vars)
        : t(refused.length ? 'app-requests-denied-many-refused' : 'app-requests-denied-many', vars));
      outcome.replaceChildren();
      await refresh();
      ctx.refreshCount();
      heading.focus();
    } catch (error) {
      outcome.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorText(error)));
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
      renderBulk();
    }
  };
  approveSelected.addEventListener('click', () => bulkDecide('approve'));
  denySelected.addEventListener('click', () => bulkDecide('deny'));
  selectAll.addEventListener('change', () => {
    for (const request of shownPending()) {
      if (selectAll.checked) selected.add(request.id);
      else selected.delete(request.id);
    }
    for (const box of list.querySelectorAll('input[data-key="pick"]')) box.checked = selectAll.checked;
    renderBulk();
  });

  const renderBulk = () => {
    const pendingShown = shownPending();
    const chosen = pendingShown.filter((request) => selected.has(request.id)).length;
    bulk.hidden = !canDecide || pendingShown.length === 0;
    selectAll.checked = chosen > 0 && chosen === pendingShown.length;
    selectAll.indeterminate = chosen > 0 && chosen < pendingShown.length;
    approveSelected.textContent = t('app-requests-approve-selected', { count: chosen });
    denySelected.textContent = t('app-requests-deny-selected', { count: chosen });
    approveSelected.disabled = chosen === 0;
    denySelected.disabled = chosen === 0;
  };

  // ---- the list ----

  const visible = () => {
    const query = search.control.value.trim();
    const words = folded(query);
    const number = digits(query);
    const found = items.filter((request) => !held.has(request.id)).filter((request) => {
      if (!query) return true;
      if (folded(request.name).includes(words)) return true;
      if (request.address && folded(request.address).includes(words)) return true;
      return number.length >= 3 && digits(request.phone).includes(number);
    });
    const order = sort.control.value;
    return found.sort((a, b) => {
      if (order === 'name') return a.name.localeCompare(b.name, undefined, { sensitivity: 'base' });
      const newer = a.created_at < b.created_at ? 1 : -1;
      return order === 'oldest' ? -newer : newer;
    });
  };

  const answersOf = (request) => {
    const questions = ctx.neighborhood.join_questions ?? [];
    const textOf = (id) => questions.find((question) => question.id === id)?.text ?? id;
    return Object.entries(request.answers ?? {}).flatMap(([id, answer]) => [h('dt', {}, textOf(id)), h('dd', {}, answer)]);
  };

  const row = (request) => {
    const pending = request.state === 'pending' && canDecide;
    const pick = pending
      ? h('label', { class: 'request-pick' }, h('input', {
        type: 'checkbox', 'data-key': 'pick', checked: selected.has(request.id),
        'aria-label': t('app-requests-select', { name: request.name }),
        onchange: (event) => {
          if (event.target.checked) selected.add(request.id);
          else selected.delete(request.id);
          renderBulk();
        },
      }))
      : null;
    const meta = [
      request.address,
      timeAgo(request.created_at),
      CHANNELS[request.channel] ? t(CHANNELS[request.channel]) : request.channel,
    ].filter(Boolean).flatMap((part, index) => (index ? [' · ', part] : [part]));
    const flags = flagsOf(request);
    const detailsId = `details-${request.id}`;
    const open = expanded.has(request.id);
    const toggle = h('button', {
      type: 'button', class: 'link toggle', 'data-key': 'details', 'aria-expanded': String(open), 'aria-controls': detailsId,
      onclick: () => {
        const opening = !expanded.has(request.id);
        if (opening) expanded.add(request.id);
        else expanded.delete(request.id);
        toggle.setAttribute('aria-expanded', String(opening));
        panel.hidden = !opening;
      },
    }, t('app-requests-details'), h('span', { class: 'vh' }, ` ${t('app-requests-details-for', { name: request.name })}`));
    const actions = h('div', { class: 'actions' }, toggle, pending
      ? [h('button', {
        type: 'button', class: 'primary', 'data-key': 'approve', 'aria-label': t('app-requests-approve-label', { name: request.name }),
        onclick: () => decide(request, 'approve'),
      }, t('app-requests-approve')),
      h('button', {
        type: 'button', class: 'danger', 'data-key': 'deny', 'aria-label': t('app-requests-deny-label', { name: request.name }),
        onclick: () => decide(request, 'deny'),
      }, t('app-requests-deny'))]
      : null);
    const block = request.phone && pending
      ? h('button', {
        type: 'button', 'data-key': 'block', 'aria-label': t('app-requests-block-label', { name: request.name }),
        onclick: () => blockPhone(request),
      }, t('app-requests-block'))
      : null;
    const panel = h('div', { id: detailsId, class: 'request-details', hidden: !open },
      h('dl', { class: 'stacked' },
        request.phone ? [h('dt', {}, t('app-requests-phone')), h('dd', {}, phoneText(request.phone))] : null,
        h('dt', {}, t('app-requests-asked')), h('dd', {}, when(request.created_at)),
        answersOf(request),
        h('dt', {}, t('app-requests-agreed')), h('dd', {}, t('app-requests-agreed-text', {
          consent: request.consent_text, when: when(request.consent_at),
        })),
        request.decided_by ? [h('dt', {}, t('app-requests-decided')), h('dd', {}, t('app-requests-decided-text', {
          when: when(request.decided_at), who: request.history?.decided_by ?? actorText(request.decided_by),
        }))] : null),
      block ? h('div', { class: 'actions' }, block) : null);
    return h('li', { 'data-request': request.id },
      h('div', { class: 'request-row' },
        pick,
        h('div', { class: 'request-who' },
          h('h3', {}, t('app-requests-heading', { number: request.number, name: request.name })),
          h('p', { class: 'meta' }, meta),
          flags.length ? h('p', { class: 'flags' }, flags.map(([text, serious]) => h('span', { class: serious ? 'flag bad' : 'flag' }, text))) : null),
        actions),
      panel);
  };

  const render = () => {
    // Keep focus on the same control of the same request across a redraw (live updates).
    const active = document.activeElement;
    const focusedRow = list.contains(active) ? active.closest('[data-request]')?.dataset.request : null;
    const focusedKey = active?.dataset?.key;
    const shown = visible();
    list.replaceChildren(...shown.map(row));
    if (focusedRow && focusedKey) {
      list.querySelector(`[data-request="${CSS.escape(focusedRow)}"] [data-key="${focusedKey}"]`)?.focus();
    }
    const state = show.control.value;
    status.hidden = shown.length > 0;
    if (shown.length === 0) {
      status.replaceChildren(search.control.value.trim()
        ? t('app-requests-no-match')
        : state === 'pending'
          ? h('span', {}, ...tParts('app-requests-none-waiting', {
            invite: h('a', { href: `#/n/${ctx.id}/invite` }, t('app-requests-invite-link')),
          }))
          : t('app-requests-nothing'));
    }
    renderBulk();
  };

  const blockPhone = async (request) => {
    if (!window.confirm(t('app-requests-block-confirm', { phone: phoneText(request.phone) }))) return;
    try {
      await api(`neighborhoods/${ctx.id}/blocked-phones`, { method: 'POST', body: { phone: request.phone } });
      const moveFocus = focusAfter(request.id);
      // Blocking is deliberate (it asked first): the denial goes at once.
      const decision = { request, action: 'deny', reason: t('app-requests-blocked-reason'), sent: false };
      held.set(request.id, decision);
      render();
      moveFocus();
      await send(decision);
      toast(t('app-requests-denied', { name: request.name }));
    } catch (error) {
      toast(errorText(error), { error: true });
    }
  };

  const refresh = coalesce(async () => {
    const state = show.control.value;
    try {
      const page = await api(`neighborhoods/${ctx.id}/join-requests`, { query: { state } });
      items = page.items;
      const ids = new Set(items.map((request) => request.id));
      for (const id of selected) if (!ids.has(id)) selected.delete(id);
      render();
    } catch (error) {
      status.hidden = false;
      status.replaceChildren(h('span', { class: 'alert', role: 'alert' }, errorText(error)));
    }
  });
  show.control.addEventListener('change', () => { selected.clear(); refresh(); });
  search.control.addEventListener('input', render);
  sort.control.addEventListener('change', render);
  await refresh();
  const stopLive = ctx.live.on('join_request', refresh);
  return () => {
    stopLive();
    window.removeEventListener('pagehide', onPageHide);
    // Leaving the view ends the chance to undo: what is held goes now.
    sendAll();
  };
}
