// The announcement composer: whom it goes to (everyone, a street, a role, picked members), the
// text with a live review line (characters, segments and encoding, recipients, cost), saved
// templates, when it goes, and a confirm sheet before anything is texted. On phones it opens
// from a "New announcement" button so the conversation comes first.

import { ApiError, api, errorText } from '../../api.js';
import { h, field, when, showErrors, clearErrors, busy, toast, phoneText, uid } from '../../dom.js';
import { moneyText } from '../../money.js';

/** How long typing must pause before the review line asks for a new estimate. */
const SETTLE_MS = 400;
const MAX_CHARS = 1600;

const ROLE_NAMES = { member: 'Members', moderator: 'Moderators', captain: 'Captains', owner: 'Owner' };

/** A datetime-local value ("2026-12-24T18:00") as RFC 3339 in the browser's own zone. */
function sendAtFromLocal(value) {
  if (!value) return undefined;
  const at = new Date(value);
  // An unreadable value goes to the API as typed, so its field error explains it.
  return Number.isNaN(at.getTime()) ? value : at.toISOString();
}

/** "Sat Dec 5, 6:00 PM" in the reader's own zone. */
function dayAndTime(iso) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    weekday: 'short', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit',
  }).formatToParts(new Date(iso)).map((part) => [part.type, part.value]));
  return `${parts.weekday} ${parts.month} ${parts.day}, ${parts.hour}:${parts.minute} ${parts.dayPeriod ?? ''}`.trim();
}

const people = (n) => `${n} ${n === 1 ? 'person' : 'people'}`;
const segmentsText = (n) => `${n} ${n === 1 ? 'segment' : 'segments'}`;

/** "121 people, 2 segments each, about $2.01": what the confirm sheet says it will cost. */
export function reachText(estimate) {
  const each = estimate.recipients === 1 ? '' : ' each';
  return `${people(estimate.recipients)}, ${segmentsText(estimate.segments)}${each}, about ${moneyText(estimate.cost)}`;
}

/** "1 segment (GSM-7)" or "2 segments (UCS-2 because of “🎉”)". */
function encodingText(estimate) {
  if (estimate.encoding === 'ucs2') {
    const culprit = estimate.ucs2_character ? ` because of “${estimate.ucs2_character}”` : '';
    return `${segmentsText(estimate.segments)} (UCS-2${culprit})`;
  }
  return `${segmentsText(estimate.segments)} (GSM-7)`;
}

/** Checkboxes in a fieldset, one per [value, label]. */
function checkboxes(legend, name, options) {
  const boxes = options.map(([value, label]) => {
    const box = h('input', { type: 'checkbox', id: uid(name), name, value });
    return h('div', { class: 'choice' }, box, h('label', { for: box.id }, label));
  });
  const set = h('fieldset', { class: 'choices pick' }, h('legend', {}, legend),
    boxes.length ? boxes : h('p', { class: 'hint' }, 'None yet.'));
  set.checked = () => [...set.querySelectorAll('input:checked')].map((box) => box.value);
  return set;
}

/** The audience picker: everyone, or streets, roles or picked members, each with its list. */
function audiencePicker(ctx, choices, onChange) {
  const group = uid('audience');
  const kinds = [
    ['everyone', `Everyone (${people(choices.everyone)})`],
    ['streets', 'People on a street'],
    ['roles', 'People with a role'],
    ['members', 'People I pick'],
  ];
  const radios = kinds.map(([value, label]) => {
    const radio = h('input', { type: 'radio', id: `${group}-${value}`, name: 'audience.kind', value, checked: value === 'everyone' });
    return [value, radio, h('div', { class: 'choice' }, radio, h('label', { for: radio.id }, label))];
  });
  const streets = checkboxes('Streets', 'audience.streets',
    choices.streets.map((street) => [street.name, `${street.name} (${people(street.members)})`]));
  const roles = checkboxes('Roles', 'audience.roles',
    choices.roles.map((role) => [role.role, `${ROLE_NAMES[role.role] ?? role.role} (${people(role.members)})`]));
  const members = h('div', { class: 'pick' });
  const panels = { streets, roles, members };
  let memberList = null;

  const showMembers = async () => {
    if (memberList) return;
    memberList = h('p', { class: 'hint', role: 'status' }, 'Loading members…');
    members.replaceChildren(memberList);
    try {
      const page = await api(`neighborhoods/${ctx.id}/members`, { query: { status: 'active', limit: 500 } });
      const search = field({ label: 'Find a member', name: 'member-search', type: 'search', attrs: { autocomplete: 'off' } });
      memberList = checkboxes('Members', 'audience.member_ids', page.items.map((member) =>
        [member.id, member.address ? `${member.display_name}, ${member.address}` : member.display_name]));
      search.control.addEventListener('input', () => {
        const wanted = search.control.value.trim().toLowerCase();
        for (const row of memberList.querySelectorAll('.choice')) {
          row.hidden = Boolean(wanted) && !row.textContent.toLowerCase().includes(wanted);
        }
      });
      members.replaceChildren(search, memberList);
    } catch (error) {
      memberList = null;
      members.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorText(error)));
    }
  };

  const kind = () => radios.find(([, radio]) => radio.checked)?.[0] ?? 'everyone';
  const show = () => {
    for (const [name, panel] of Object.entries(panels)) panel.hidden = kind() !== name;
    if (kind() === 'members') showMembers();
  };
  const node = h('fieldset', { class: 'choices audience' }, h('legend', {}, 'To'),
    radios.map(([, , row]) => row), streets, roles, members);
  node.addEventListener('change', () => {
    show();
    onChange();
  });
  show();
  return {
    node,
    /** The `audience` the API takes; undefined for everyone. */
    value() {
      switch (kind()) {
        case 'streets': return { kind: 'streets', streets: streets.checked() };
        case 'roles': return { kind: 'roles', roles: roles.checked() };
        case 'members': return { kind: 'members', member_ids: memberList?.checked?.() ?? [] };
        default: return undefined;
      }
    },
    everyone: () => kind() === 'everyone',
    reset() {
      radios[0][1].checked = true;
      for (const box of node.querySelectorAll('input[type="checkbox"]')) box.checked = false;
      show();
    },
  };
}

/** A field error as the API would answer it, for one checked before asking the API. */
function fieldError(name, message) {
  return new ApiError(400, 'validation_failed', message, [{ field: name, message }]);
}

/** The confirm sheet: an accessible modal dialog; resolves true on Confirm, false on Cancel. */
function confirmSheet() {
  const titleId = uid('confirm-title');
  const summary = h('p', { class: 'summary' });
  const note = h('p', { class: 'hint' });
  const preview = h('blockquote', { class: 'preview' });
  const ok = h('button', { type: 'button', class: 'primary' }, 'Confirm');
  const cancel = h('button', { type: 'button' }, 'Cancel');
  const dialog = h('dialog', { class: 'sheet', 'aria-labelledby': titleId, 'aria-describedby': summary.id = uid('confirm-summary') },
    h('h3', { id: titleId }, 'Send this announcement?'), summary, preview, note, h('div', { class: 'actions' }, ok, cancel));
  let settle = () => {};
  ok.addEventListener('click', () => dialog.close('confirm'));
  cancel.addEventListener('click', () => dialog.close('cancel'));
  dialog.addEventListener('close', () => settle(dialog.returnValue === 'confirm'));
  return {
    node: dialog,
    ask({ title, text, body, held }) {
      dialog.querySelector('h3').textContent = title;
      summary.textContent = text;
      preview.textContent = body;
      note.textContent = held ? 'The monthly budget is spent: it waits until a captain raises it (Settings, Costs and budget).' : '';
      note.hidden = !held;
      dialog.returnValue = '';
      dialog.showModal();
      cancel.focus();
      return new Promise((resolve) => { settle = resolve; });
    },
  };
}

/**
 * The composer: { node, opener, sheet }. `opener` is the phone-only "New announcement" button;
 * `sheet` the confirm dialog, placed outside the composer so it opens whatever the layout hides.
 */
export async function composer(ctx, { onScheduled }) {
  const [choices, templates] = await Promise.all([
    api(`neighborhoods/${ctx.id}/audiences`).catch(() => ({ everyone: 0, streets: [], roles: [] })),
    api(`neighborhoods/${ctx.id}/templates`).catch(() => ({ items: [] })),
  ]);
  const headingId = uid('composer-heading');
  const sheet = confirmSheet();

  const body = field({
    label: 'Announcement', name: 'body', type: 'textarea', required: true,
    hint: `Texted from ${phoneText(ctx.neighborhood.phone_number)}, signed with your name.`,
    attrs: { maxlength: MAX_CHARS },
  });
  const count = h('span', { class: 'count' }, `0/${MAX_CHARS} characters`);
  const estimateLine = h('span', { role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' }, '');
  const review = h('p', { class: 'review' }, count, ' · ', estimateLine);

  const audience = audiencePicker(ctx, choices, () => refreshEstimate());

  // ---- templates ----
  let saved = templates.items;
  const templateSelect = field({ label: 'Template', name: 'template', type: 'select', options: [] });
  const useTemplate = h('button', { type: 'button' }, 'Use a template');
  const templatePicker = h('div', { class: 'template-picker' }, templateSelect, h('div', { class: 'actions' }, useTemplate));
  const showTemplates = () => {
    templateSelect.control.replaceChildren(...saved.map((template) => h('option', { value: template.id }, template.name)));
    templatePicker.hidden = saved.length === 0;
  };
  useTemplate.addEventListener('click', () => {
    const template = saved.find((t) => t.id === templateSelect.control.value);
    if (!template) return;
    body.control.value = template.body;
    body.control.focus();
    refreshEstimate();
  });
  const templateName = field({ label: 'Template name', name: 'name', attrs: { maxlength: 60, autocomplete: 'off' } });
  const saveTemplate = h('button', { type: 'button', class: 'primary' }, 'Save template');
  const saveAs = h('button', { type: 'button' }, 'Save as template');
  const naming = h('div', { class: 'template-save', hidden: true }, templateName,
    h('div', { class: 'actions' }, saveTemplate, h('button', { type: 'button', onclick: () => {
      naming.hidden = true;
      saveAs.focus();
    } }, 'Cancel')));
  saveAs.addEventListener('click', () => {
    naming.hidden = false;
    templateName.control.focus();
  });
  saveTemplate.addEventListener('click', () => busy(saveTemplate, async () => {
    clearErrors(naming);
    try {
      const template = await api(`neighborhoods/${ctx.id}/templates`, {
        method: 'POST', body: { name: templateName.control.value, body: body.control.value },
      });
      saved = [...saved, template].sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
      showTemplates();
      templateName.control.value = '';
      naming.hidden = true;
      saveAs.focus();
      toast(`Saved the template “${template.name}”.`);
    } catch (error) {
      showErrors(naming, error);
    }
  }));
  showTemplates();

  // ---- when ----
  const timing = uid('timing');
  const now = h('input', { type: 'radio', id: `${timing}-now`, name: 'timing', value: 'now', checked: true });
  const later = h('input', { type: 'radio', id: `${timing}-later`, name: 'timing', value: 'later' });
  const sendAt = field({ label: 'Send at', name: 'send_at', type: 'datetime-local',
    hint: 'Your local time. Up to a year ahead.' });
  const choice = h('fieldset', { class: 'choices' }, h('legend', {}, 'When'),
    h('div', { class: 'choice' }, now, h('label', { for: now.id }, 'Send now')),
    h('div', { class: 'choice' }, later, h('label', { for: later.id }, 'Schedule for a time')));
  const quiet = ctx.neighborhood.quiet_hours;
  const urgent = field({ label: 'Urgent (ignore quiet hours)', name: 'urgent', type: 'checkbox',
    hint: quiet
      ? `Quiet hours are ${quiet.start} to ${quiet.end} (${quiet.time_zone}); other announcements wait for them to end.`
      : 'This neighborhood has no quiet hours (Settings).' });
  const send = h('button', { class: 'primary', type: 'submit' }, 'Send to everyone');
  const showTiming = () => {
    sendAt.hidden = !later.checked;
    if (later.checked) send.textContent = 'Schedule';
    else send.textContent = audience.everyone() ? 'Send to everyone' : 'Send to chosen people';
  };
  now.addEventListener('change', showTiming);
  later.addEventListener('change', showTiming);
  audience.node.addEventListener('change', showTiming);

  // ---- the review line: debounced, and only the newest answer is shown ----
  let settleTimer = null;
  let asked = 0;
  const request = () => ({ body: body.control.value, audience: audience.value() });
  const estimate = () => api(`neighborhoods/${ctx.id}/messages/estimate`, { method: 'POST', body: request() });
  function refreshEstimate() {
    const characters = [...body.control.value].length;
    count.textContent = `${characters}/${MAX_CHARS} characters`;
    clearTimeout(settleTimer);
    settleTimer = setTimeout(async () => {
      const mine = ++asked;
      if (!body.control.value.trim()) {
        estimateLine.textContent = 'Type the announcement to see what it costs.';
        return;
      }
      const chosen = audience.value();
      if (chosen && (chosen.streets ?? chosen.roles ?? chosen.member_ids).length === 0) {
        estimateLine.textContent = 'Choose who gets it.';
        return;
      }
      try {
        const answer = await estimate();
        if (mine !== asked) return;
        const reach = answer.recipients === 0 ? 'nobody yet' : people(answer.recipients);
        const text = `${encodingText(answer)} · ${reach} · about ${moneyText(answer.cost)}`;
        // Unchanged words are not set again, so screen readers hear only what changed.
        if (estimateLine.textContent !== text) estimateLine.textContent = text;
      } catch (error) {
        if (mine !== asked) return;
        estimateLine.textContent = errorText(error);
      }
    }, SETTLE_MS);
  }
  body.control.addEventListener('input', refreshEstimate);
  estimateLine.textContent = 'Type the announcement to see what it costs.';

  const reset = () => {
    body.control.value = '';
    sendAt.control.value = '';
    urgent.control.checked = false;
    now.checked = true;
    audience.reset();
    showTiming();
    refreshEstimate();
  };

  /** Sends (or schedules) what the captain confirmed; the form starts over. */
  const post = (payload) => busy(send, async () => {
    try {
      const answer = await api(`neighborhoods/${ctx.id}/messages`, { method: 'POST', body: payload });
      const wasLater = later.checked;
      reset();
      if (answer?.state === 'scheduled') {
        toast(answer.waits_for_quiet_hours && !wasLater
          ? `Quiet hours: it goes out ${when(answer.scheduled_for)}.`
          : `Scheduled: it goes out ${when(answer.scheduled_for)}.`);
        onScheduled();
      } else if (answer?.held) {
        toast('The monthly budget is spent: the announcement waits until a captain raises it (Settings, Costs and budget).');
      } else if (answer?.audience) {
        toast(`Announcement sent ${answer.audience.replace(/^To/, 'to')} (about ${moneyText(answer.estimate?.cost ?? '0')}).`);
      } else {
        toast(`Announcement sent to the group (about ${moneyText(answer?.estimate?.cost ?? '0')}).`);
      }
    } catch (error) {
      showErrors(form, error);
    }
  });

  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    const payload = { ...request(), urgent: urgent.control.checked };
    const scheduling = later.checked;
    if (scheduling) {
      const at = sendAtFromLocal(sendAt.control.value);
      if (!at || Number.isNaN(new Date(at).getTime())) {
        showErrors(form, fieldError('send_at', 'Choose the day and time to send it.'));
        return;
      }
      payload.send_at = at;
    }
    // Priced as it is now, whatever the review line last showed; bad fields show here.
    const priced = await busy(send, async () => {
      try {
        return await estimate();
      } catch (error) {
        showErrors(form, error);
        return null;
      }
    });
    if (!priced) return;
    const confirmed = await sheet.ask({
      title: scheduling ? 'Schedule this announcement?' : 'Send this announcement?',
      text: scheduling ? `Schedule for ${dayAndTime(payload.send_at)}: ${reachText(priced)}` : `Text ${reachText(priced)}`,
      body: body.control.value.trim(),
      held: priced.held && !scheduling,
    });
    send.focus();
    if (confirmed) await post(payload);
  } }, audience.node, templatePicker, body, review, choice, sendAt, urgent,
  h('div', { class: 'actions' }, send, saveAs), naming);
  showTiming();

  // ---- phones: the conversation first, the composer behind a button ----
  const opener = h('button', { type: 'button', class: 'primary new-announcement', 'aria-expanded': 'false' }, 'New announcement');
  const close = h('button', { type: 'button', class: 'close-composer' }, 'Close');
  const node = h('section', { class: 'card composer', 'aria-labelledby': headingId },
    h('div', { class: 'composer-head' }, h('h3', { id: headingId }, 'New announcement'), close), form);
  opener.setAttribute('aria-controls', node.id = uid('composer'));
  opener.addEventListener('click', () => {
    node.dataset.open = 'true';
    opener.setAttribute('aria-expanded', 'true');
    body.control.focus();
  });
  close.addEventListener('click', () => {
    delete node.dataset.open;
    opener.setAttribute('aria-expanded', 'false');
    opener.focus();
  });
  return { node, opener, sheet: sheet.node };
}
