// The announcement composer: whom it goes to (everyone, a street, a role, picked members), the
// text with a live review line (characters, segments and encoding, recipients, cost), saved
// templates, a picture for everyone, when it goes, and a confirm sheet before anything is texted. On phones it opens
// from a "New announcement" button so the conversation comes first.

import { ApiError, api, errorText } from '../../api.js';
import { h, field, when, showErrors, clearErrors, busy, toast, phoneText, uid } from '../../dom.js';
import { moneyText } from '../../money.js';
import { t, tCount } from '../../i18n.js';

/** How long typing must pause before the review line asks for a new estimate. */
const SETTLE_MS = 400;
const MAX_CHARS = 1600;
/** The pictures every MMS phone shows, and the most a message to phones may carry (Twilio's). */
const PICTURE_TYPES = ['image/jpeg', 'image/png', 'image/gif'];
const MAX_PICTURE_BYTES = 5 * 1024 * 1024;

const ROLE_NAMES = {
  member: 'app-composer-role-members',
  moderator: 'app-composer-role-moderators',
  captain: 'app-composer-role-captains',
  owner: 'app-composer-role-owner',
};

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

const people = (n) => tCount(n, 'app-composer-people-one', 'app-composer-people-other');
const segmentsText = (n) => tCount(n, 'app-composer-segments-one', 'app-composer-segments-other');

/** "121 people, 2 segments each, about $2.01": what the confirm sheet says it will cost. */
export function reachText(estimate) {
  return t(estimate.recipients === 1 ? 'app-composer-reach' : 'app-composer-reach-each', {
    people: people(estimate.recipients), segments: segmentsText(estimate.segments), cost: moneyText(estimate.cost),
  });
}

/** "1 segment (GSM-7)" or "2 segments (UCS-2 because of “🎉”)". */
function encodingText(estimate) {
  const segments = segmentsText(estimate.segments);
  if (estimate.encoding === 'ucs2') {
    return estimate.ucs2_character
      ? t('app-composer-ucs2-because', { segments, character: estimate.ucs2_character })
      : t('app-composer-ucs2', { segments });
  }
  return t('app-composer-gsm7', { segments });
}

/** Checkboxes in a fieldset, one per [value, label]. */
function checkboxes(legend, name, options) {
  const boxes = options.map(([value, label]) => {
    const box = h('input', { type: 'checkbox', id: uid(name), name, value });
    return h('div', { class: 'choice' }, box, h('label', { for: box.id }, label));
  });
  const set = h('fieldset', { class: 'choices pick' }, h('legend', {}, legend),
    boxes.length ? boxes : h('p', { class: 'hint' }, t('app-composer-none-yet')));
  set.checked = () => [...set.querySelectorAll('input:checked')].map((box) => box.value);
  return set;
}

/** The audience picker: everyone, or streets, roles or picked members, each with its list. */
function audiencePicker(ctx, choices, onChange) {
  const group = uid('audience');
  const kinds = [
    ['everyone', t('app-composer-everyone', { people: people(choices.everyone) })],
    ['streets', t('app-composer-streets')],
    ['roles', t('app-composer-roles')],
    ['members', t('app-composer-members')],
  ];
  const radios = kinds.map(([value, label]) => {
    const radio = h('input', { type: 'radio', id: `${group}-${value}`, name: 'audience.kind', value, checked: value === 'everyone' });
    return [value, radio, h('div', { class: 'choice' }, radio, h('label', { for: radio.id }, label))];
  });
  const streets = checkboxes(t('app-composer-streets-legend'), 'audience.streets',
    choices.streets.map((street) => [street.name, t('app-composer-choice', { name: street.name, people: people(street.members) })]));
  const roles = checkboxes(t('app-composer-roles-legend'), 'audience.roles',
    choices.roles.map((role) => [role.role, t('app-composer-choice', {
      name: ROLE_NAMES[role.role] ? t(ROLE_NAMES[role.role]) : role.role, people: people(role.members),
    })]));
  const members = h('div', { class: 'pick' });
  const panels = { streets, roles, members };
  let memberList = null;

  const showMembers = async () => {
    if (memberList) return;
    memberList = h('p', { class: 'hint', role: 'status' }, t('app-composer-loading-members'));
    members.replaceChildren(memberList);
    try {
      const page = await api(`neighborhoods/${ctx.id}/members`, { query: { status: 'active', limit: 500 } });
      const search = field({ label: t('app-composer-find-member'), name: 'member-search', type: 'search', attrs: { autocomplete: 'off' } });
      memberList = checkboxes(t('app-composer-members-legend'), 'audience.member_ids', page.items.map((member) =>
        [member.id, member.address
          ? t('app-composer-member-address', { name: member.display_name, address: member.address })
          : member.display_name]));
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
  const node = h('fieldset', { class: 'choices audience' }, h('legend', {}, t('app-composer-to')),
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
  const ok = h('button', { type: 'button', class: 'primary' }, t('app-composer-confirm'));
  const cancel = h('button', { type: 'button' }, t('app-composer-cancel'));
  const dialog = h('dialog', { class: 'sheet', 'aria-labelledby': titleId, 'aria-describedby': summary.id = uid('confirm-summary') },
    h('h3', { id: titleId }, t('app-composer-send-title')), summary, preview, note, h('div', { class: 'actions' }, ok, cancel));
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
      note.textContent = held ? t('app-composer-held-note') : '';
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
    label: t('app-composer-body'), name: 'body', type: 'textarea', required: true,
    hint: t('app-composer-body-hint', { number: phoneText(ctx.neighborhood.phone_number) }),
    attrs: { maxlength: MAX_CHARS },
  });
  const count = h('span', { class: 'count' }, t('app-composer-count', { count: 0, max: MAX_CHARS }));
  const estimateLine = h('span', { role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' }, '');
  const review = h('p', { class: 'review' }, count, ' · ', estimateLine);

  const audience = audiencePicker(ctx, choices, () => refreshEstimate());

  // ---- a picture: uploaded as soon as it is chosen, shown back from the service ----
  let mediaSid = null;
  const picture = field({
    label: t('app-composer-picture'), name: 'media_sid', type: 'file',
    hint: t('app-composer-picture-hint'), attrs: { accept: PICTURE_TYPES.join(',') },
  });
  const preview = h('img', { class: 'picture-preview', alt: t('app-composer-picture-alt'), hidden: true });
  const removePicture = h('button', { type: 'button', hidden: true }, t('app-composer-picture-remove'));
  const pictureStatus = h('p', { class: 'hint', role: 'status' }, '');
  const clearPicture = () => {
    mediaSid = null;
    picture.control.value = '';
    preview.hidden = true;
    preview.removeAttribute('src');
    removePicture.hidden = true;
    pictureStatus.textContent = '';
  };
  removePicture.addEventListener('click', () => {
    clearPicture();
    refreshEstimate();
    picture.control.focus();
  });
  picture.control.addEventListener('change', async () => {
    const file = picture.control.files?.[0];
    clearErrors(picture);
    mediaSid = null;
    if (!file) return clearPicture();
    // Said here rather than after a 5 MB upload the service would refuse.
    if (!PICTURE_TYPES.includes(file.type)) {
      showErrors(picture, fieldError('media_sid', t('app-composer-picture-wrong-type')));
      return clearPicture();
    }
    if (file.size > MAX_PICTURE_BYTES) {
      showErrors(picture, fieldError('media_sid', t('app-composer-picture-too-large')));
      return clearPicture();
    }
    pictureStatus.textContent = t('app-composer-picture-uploading');
    try {
      const uploaded = await api(`neighborhoods/${ctx.id}/pictures`, { method: 'POST', body: file, contentType: file.type });
      mediaSid = uploaded.media_sid;
      preview.src = `/api/v1/neighborhoods/${ctx.id}/media/${encodeURIComponent(mediaSid)}`;
      preview.hidden = false;
      removePicture.hidden = false;
      pictureStatus.textContent = t('app-composer-picture-ready');
      refreshEstimate();
    } catch (error) {
      pictureStatus.textContent = '';
      showErrors(picture, error);
    }
  });
  const pictureBox = h('div', { class: 'picture-box' }, picture, preview, removePicture, pictureStatus);

  // ---- templates ----
  let saved = templates.items;
  const templateSelect = field({ label: t('app-composer-template'), name: 'template', type: 'select', options: [] });
  const useTemplate = h('button', { type: 'button' }, t('app-composer-use-template'));
  const templatePicker = h('div', { class: 'template-picker' }, templateSelect, h('div', { class: 'actions' }, useTemplate));
  const showTemplates = () => {
    templateSelect.control.replaceChildren(...saved.map((template) => h('option', { value: template.id }, template.name)));
    templatePicker.hidden = saved.length === 0;
  };
  useTemplate.addEventListener('click', () => {
    const template = saved.find((one) => one.id === templateSelect.control.value);
    if (!template) return;
    body.control.value = template.body;
    body.control.focus();
    refreshEstimate();
  });
  const templateName = field({ label: t('app-composer-template-name'), name: 'name', attrs: { maxlength: 60, autocomplete: 'off' } });
  const saveTemplate = h('button', { type: 'button', class: 'primary' }, t('app-composer-save-template'));
  const saveAs = h('button', { type: 'button' }, t('app-composer-save-as-template'));
  const naming = h('div', { class: 'template-save', hidden: true }, templateName,
    h('div', { class: 'actions' }, saveTemplate, h('button', { type: 'button', onclick: () => {
      naming.hidden = true;
      saveAs.focus();
    } }, t('app-composer-cancel'))));
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
      toast(t('app-composer-template-saved', { name: template.name }));
    } catch (error) {
      showErrors(naming, error);
    }
  }));
  showTemplates();

  // ---- when ----
  const timing = uid('timing');
  const now = h('input', { type: 'radio', id: `${timing}-now`, name: 'timing', value: 'now', checked: true });
  const later = h('input', { type: 'radio', id: `${timing}-later`, name: 'timing', value: 'later' });
  const sendAt = field({ label: t('app-composer-send-at'), name: 'send_at', type: 'datetime-local',
    hint: t('app-composer-send-at-hint') });
  const choice = h('fieldset', { class: 'choices' }, h('legend', {}, t('app-composer-when')),
    h('div', { class: 'choice' }, now, h('label', { for: now.id }, t('app-composer-now'))),
    h('div', { class: 'choice' }, later, h('label', { for: later.id }, t('app-composer-later'))));
  const quiet = ctx.neighborhood.quiet_hours;
  const urgent = field({ label: t('app-urgent'), name: 'urgent', type: 'checkbox',
    hint: quiet
      ? t('app-composer-quiet-hint', { start: quiet.start, end: quiet.end, zone: quiet.time_zone })
      : t('app-composer-no-quiet-hint') });
  const send = h('button', { class: 'primary', type: 'submit' }, t('app-composer-send-everyone'));
  const showTiming = () => {
    sendAt.hidden = !later.checked;
    if (later.checked) send.textContent = t('app-composer-schedule');
    else send.textContent = t(audience.everyone() ? 'app-composer-send-everyone' : 'app-composer-send-chosen');
  };
  now.addEventListener('change', showTiming);
  later.addEventListener('change', showTiming);
  audience.node.addEventListener('change', showTiming);

  // ---- the review line: debounced, and only the newest answer is shown ----
  let settleTimer = null;
  let asked = 0;
  const request = () => ({ body: body.control.value, audience: audience.value(), ...(mediaSid && { media_sid: mediaSid }) });
  const estimate = () => api(`neighborhoods/${ctx.id}/messages/estimate`, { method: 'POST', body: request() });
  function refreshEstimate() {
    const characters = [...body.control.value].length;
    count.textContent = t('app-composer-count', { count: characters, max: MAX_CHARS });
    clearTimeout(settleTimer);
    settleTimer = setTimeout(async () => {
      const mine = ++asked;
      if (!body.control.value.trim()) {
        estimateLine.textContent = t('app-composer-type-first');
        return;
      }
      const chosen = audience.value();
      if (chosen && (chosen.streets ?? chosen.roles ?? chosen.member_ids).length === 0) {
        estimateLine.textContent = t('app-composer-choose-who');
        return;
      }
      try {
        const answer = await estimate();
        if (mine !== asked) return;
        const reach = answer.recipients === 0 ? t('app-composer-nobody') : people(answer.recipients);
        const text = t('app-composer-review', { encoding: encodingText(answer), reach, cost: moneyText(answer.cost) });
        // Unchanged words are not set again, so screen readers hear only what changed.
        if (estimateLine.textContent !== text) estimateLine.textContent = text;
      } catch (error) {
        if (mine !== asked) return;
        estimateLine.textContent = errorText(error);
      }
    }, SETTLE_MS);
  }
  body.control.addEventListener('input', refreshEstimate);
  estimateLine.textContent = t('app-composer-type-first');

  const reset = () => {
    body.control.value = '';
    sendAt.control.value = '';
    urgent.control.checked = false;
    now.checked = true;
    clearPicture();
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
        toast(t(answer.waits_for_quiet_hours && !wasLater ? 'app-composer-quiet-scheduled' : 'app-composer-scheduled',
          { when: when(answer.scheduled_for) }));
        onScheduled();
      } else if (answer?.held) {
        toast(t('app-composer-held'));
      } else if (answer?.audience) {
        // The API names the audience in a sentence of its own ("To Elm Ave"): mid-sentence here.
        toast(t('app-composer-sent-to', {
          audience: answer.audience.replace(/^To/, 'to'), cost: moneyText(answer.estimate?.cost ?? '0'),
        }));
      } else {
        toast(t('app-composer-sent', { cost: moneyText(answer?.estimate?.cost ?? '0') }));
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
        showErrors(form, fieldError('send_at', t('app-composer-choose-time')));
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
      title: t(scheduling ? 'app-composer-schedule-title' : 'app-composer-send-title'),
      text: scheduling
        ? t('app-composer-schedule-summary', { when: dayAndTime(payload.send_at), reach: reachText(priced) })
        : t('app-composer-send-summary', { reach: reachText(priced) }),
      body: body.control.value.trim(),
      held: priced.held && !scheduling,
    });
    send.focus();
    if (confirmed) await post(payload);
  } }, audience.node, templatePicker, body, pictureBox, review, choice, sendAt, urgent,
  h('div', { class: 'actions' }, send, saveAs), naming);
  showTiming();

  // ---- phones: the conversation first, the composer behind a button ----
  const opener = h('button', { type: 'button', class: 'primary new-announcement', 'aria-expanded': 'false' }, t('app-composer-new'));
  const close = h('button', { type: 'button', class: 'close-composer' }, t('app-composer-close'));
  const node = h('section', { class: 'card composer', 'aria-labelledby': headingId },
    h('div', { class: 'composer-head' }, h('h3', { id: headingId }, t('app-composer-new')), close), form);
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
