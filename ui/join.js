// The public join page, /join/{slug}: a neighbor asks to join a neighborhood's group text (step 1),
// then confirms their phone with the 6-digit code texted to it (step 2). Everything it says about
// the neighborhood comes from the join card (GET /api/v1/join/{slug}); every failure shows the
// API's own words. Its own words come from the service's catalogs in the neighbor's language
// (ui/app/i18n.js), with a switch at the top; the texts the neighbor then gets are in the same
// language. Text is only ever set with textContent.

import { api, ApiError, errorText } from '/app/api.js';
import { t, useLanguage, wanted, language } from '/app/i18n.js';
import { h, field, choices, showErrors, clearErrors, busy, phoneText } from '/app/dom.js';

const main = document.getElementById('main');
const banner = document.getElementById('sandbox-banner');

const slug = slugFromPath(location.pathname);
// Personal invite links (texted by captains) end in ?invite=CODE; invite_only neighborhoods need it.
const invite = new URLSearchParams(location.search).get('invite')?.trim() || null;
const joinPath = `join/${encodeURIComponent(slug ?? '')}`;

let card = null; // the join card
let sandbox = false;
let detailsView = null; // step 1, kept so "Change my details" brings back what was typed
let submitted = null; // the JoinIn body last accepted, for "Text me a new code"
let request = null; // the JoinOut of that request

const onWhatsapp = () => submitted?.channel === 'whatsapp';
/** A WhatsApp chat link for an E.164 number: wa.me takes the digits alone. */
const whatsappLink = (e164) => `https://wa.me/${e164.replace(/\D/g, '')}`;

function slugFromPath(path) {
  const match = /^\/join\/([^/]+)\/?$/.exec(path);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return null;
  }
}

/** The phone as typed, in E.164 when it plainly is a North American number (for display only). */
function likelyE164(typed) {
  const digits = typed.replace(/\D/g, '');
  if (typed.trim().startsWith('+')) return `+${digits}`;
  if (digits.length === 10) return `+1${digits}`;
  if (digits.length === 11 && digits.startsWith('1')) return `+${digits}`;
  return typed.trim();
}

let loaded = false;

/**
 * Replaces the page's content. After the first view (which a screen reader reads from the top
 * anyway), focus moves to the new heading so the reader follows each step.
 */
function show(title, heading, ...nodes) {
  document.title = title;
  heading.setAttribute('tabindex', '-1');
  main.replaceChildren(...nodes);
  main.removeAttribute('aria-busy');
  if (loaded) heading.focus();
  loaded = true;
}

function sandboxLink(text) {
  return h('a', { href: '/sandbox', target: '_blank', rel: 'noopener' }, text,
    h('span', { class: 'vh' }, ` ${t('page-join-new-tab')}`));
}

/** The language switch: the card's languages, each named in itself. */
function languageSwitch() {
  if (!card || card.languages.length < 2) return null;
  const select = h('select', { id: 'join-language' },
    card.languages.map(({ code, name }) => h('option', { value: code, selected: code === language() }, name)));
  select.addEventListener('change', async () => {
    const typed = detailsView ? typedValues(detailsView.node) : null;
    await useLanguage([select.value], { remember: true });
    renderBanner();
    detailsView = buildDetails();
    if (typed) restoreValues(detailsView.node, typed);
    showDetails();
    document.getElementById('join-language')?.focus();
  });
  return h('p', { class: 'join-language' }, h('label', { for: 'join-language' }, t('page-join-language'), ' '), select);
}

/** What was typed or chosen in step 1, by field name, to carry over a change of language. */
function typedValues(node) {
  const values = {};
  for (const control of node.querySelectorAll('input, textarea, select')) {
    if (!control.name) continue;
    if (control.type === 'radio') {
      if (control.checked) values[control.name] = control.value;
    } else if (control.type === 'checkbox') {
      values[control.name] = control.checked;
    } else {
      values[control.name] = control.value;
    }
  }
  return values;
}

function restoreValues(node, values) {
  for (const control of node.querySelectorAll('input, textarea, select')) {
    if (!(control.name in values)) continue;
    if (control.type === 'radio') {
      control.checked = control.value === values[control.name];
      if (control.checked) control.dispatchEvent(new Event('change', { bubbles: true }));
    } else if (control.type === 'checkbox') {
      control.checked = values[control.name];
    } else {
      control.value = values[control.name];
    }
  }
}

function renderBanner() {
  if (!sandbox) return;
  const [before] = t('page-join-sandbox-banner').split(t('page-join-simulated-phones'));
  banner.replaceChildren(before, sandboxLink(t('page-join-simulated-phones')), '.');
  banner.hidden = false;
}

// ---- loading ----

async function load() {
  if (!slug) return notFound();
  main.setAttribute('aria-busy', 'true');
  const health = api('/health').catch(() => null);
  const words = useLanguage(wanted());
  try {
    card = await api(joinPath);
  } catch (error) {
    await words;
    return loadFailed(error);
  }
  await words;
  sandbox = Boolean((await health)?.sandbox);
  renderBanner();
  detailsView = buildDetails();
  showDetails();
}

function notFound() {
  const heading = h('h1', {}, t('page-join-not-found'));
  show(t('page-join-not-found-title'), heading, h('section', { class: 'card join-state' }, heading,
    h('p', {}, t('page-join-not-found-body')),
    h('p', { class: 'muted' }, t('page-join-not-found-hint'))));
}

function loadFailed(error) {
  if (error instanceof ApiError && error.status === 404) return notFound();
  if (error instanceof ApiError && error.code === 'neighborhood_archived') {
    const heading = h('h1', {}, t('page-join-closed'));
    return show(t('page-join-closed-title'), heading,
      h('section', { class: 'card join-state' }, heading, h('p', {}, error.message)));
  }
  const heading = h('h1', {}, t('page-join-failed'));
  const retry = h('button', { type: 'button', class: 'primary', onclick: () => load() }, t('page-join-try-again'));
  show(t('page-join-failed-title'), heading, h('section', { class: 'card join-state' }, heading,
    h('div', { class: 'alert', role: 'alert' }, h('p', {}, errorText(error))), retry));
}

// ---- step 1: who you are ----

const POLICY_NOTES = {
  approval: 'page-join-policy-approval',
  open: 'page-join-policy-open',
  invite_only: 'page-join-policy-invite-only',
};

/** `text` with `value` (a node) where `marker` stands in it. */
function around(text, marker, value) {
  const at = text.indexOf(marker);
  return at < 0 ? [text] : [text.slice(0, at), value, text.slice(at + marker.length)];
}

function intro() {
  const number = phoneText(card.phone_number);
  const policy = card.join_policy === 'invite_only' && invite ? 'page-join-invited' : POLICY_NOTES[card.join_policy];
  return h('header', { class: 'join-head' },
    languageSwitch(),
    h('p', { class: 'join-kicker' }, t('page-join-kicker')),
    h('h1', { id: 'join-title' }, t('page-join-title', { neighborhood: card.name })),
    card.description && h('p', { class: 'join-description' }, card.description),
    h('p', {}, around(t('page-join-intro', { number }), number, h('strong', { class: 'join-number' }, number))),
    h('p', { class: 'muted' }, policy ? t(policy) : ''));
}

/** The consent text of the page's language: what the neighbor agrees to, as they read it. */
function consentFor(channel) {
  const texts = card.consent_texts?.[language()];
  if (channel === 'whatsapp') return texts?.whatsapp ?? card.whatsapp.consent_text;
  return texts?.sms ?? card.consent_text;
}

function buildDetails() {
  const heading = h('h2', { id: 'details-h' }, t('page-join-details'));
  const step = h('p', { class: 'join-step' }, t('page-join-step-1'));
  if (card.join_policy === 'invite_only' && !invite) {
    heading.textContent = t('page-join-how');
    return { heading, node: h('div', {}, intro(), h('section', { class: 'card', 'aria-labelledby': 'details-h' }, heading,
      h('p', {}, t('page-join-invite-only')))) };
  }
  const fields = [
    field({ label: t('page-join-name'), name: 'name', required: true, hint: t('page-join-name-hint'), attrs: { autocomplete: 'name', maxlength: 40 } }),
    field({ label: t('page-join-phone'), name: 'phone', type: 'tel', required: true,
      hint: t(card.whatsapp ? 'page-join-phone-hint-whatsapp' : 'page-join-phone-hint'), attrs: { autocomplete: 'tel', inputmode: 'tel' } }),
    field({ label: t('page-join-address'), name: 'address', hint: t('page-join-address-hint'), attrs: { autocomplete: 'street-address', maxlength: 200 } }),
    ...card.join_questions.map((question) => field({
      label: question.text, name: `answers.${question.id}`, type: 'textarea', required: question.required,
      hint: question.required ? null : t('page-join-optional'), attrs: { rows: 2, maxlength: 500 },
    })),
  ];
  const consentText = h('span', {}, consentFor('sms'));
  const consent = field({ label: [consentText, h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')], name: 'consent', type: 'checkbox' });
  consent.classList.add('join-consent');
  consent.control.required = true;
  // Where the neighborhood has a WhatsApp number, the neighbor picks the app the group reaches
  // them in; what they agree to names it.
  const channel = card.whatsapp ? choices({
    legend: t('page-join-channel'), name: 'channel', value: 'sms', options: [
      ['sms', t('page-join-channel-sms'), t('page-join-channel-sms-hint', { number: phoneText(card.phone_number) })],
      ['whatsapp', t('page-join-channel-whatsapp'), t('page-join-channel-whatsapp-hint', { number: phoneText(card.whatsapp.number) })],
    ],
  }) : null;
  const button = h('button', { type: 'submit', class: 'primary' }, t('page-join-send-code'));
  channel?.addEventListener('change', () => {
    const whatsapp = channel.value() === 'whatsapp';
    consentText.textContent = consentFor(whatsapp ? 'whatsapp' : 'sms');
    button.textContent = t(whatsapp ? 'page-join-send-code-whatsapp' : 'page-join-send-code');
  });
  if (channel) fields.splice(2, 0, channel);
  const form = h('form', { novalidate: true, 'aria-labelledby': 'details-h' },
    h('p', { class: 'hint' }, around(t('page-join-required'), '*', h('span', { class: 'req' }, '*'))),
    fields, consent, h('div', { class: 'actions' }, button));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(button, () => submitDetails(form, consent, channel));
  });
  return { heading, node: h('div', {}, intro(), h('section', { class: 'card', 'aria-labelledby': 'details-h' }, step, heading, form)) };
}

function showDetails() {
  show(t('page-join-title', { neighborhood: card.name }), detailsView.node.querySelector('h1'), detailsView.node);
}

async function submitDetails(form, consent, channel) {
  clearErrors(form);
  const value = (name) => form.querySelector(`[name="${CSS.escape(name)}"]`).value.trim();
  const answers = {};
  for (const question of card.join_questions) {
    const answer = value(`answers.${question.id}`);
    if (answer) answers[question.id] = answer;
  }
  const body = { name: value('name'), phone: value('phone'), answers, consent: consent.control.checked, language: language() };
  if (value('address')) body.address = value('address');
  if (invite) body.invite = invite;
  if (channel?.value() === 'whatsapp') body.channel = 'whatsapp';
  try {
    const out = await api(joinPath, { method: 'POST', body });
    submitted = body;
    request = out;
    afterRequest(out);
  } catch (error) {
    showErrors(form, forNeighbors(error, body));
  }
}

/**
 * Field errors stay the API's own; the summary above them says plainly what to do, instead of the
 * API's "3 fields are invalid; see details." A blank phone gets a sentence about a blank phone.
 */
function forNeighbors(error, body) {
  if (!(error instanceof ApiError) || error.code !== 'validation_failed' || error.details.length === 0) return error;
  const details = error.details.map((detail) => (detail.field === 'phone' && !body.phone
    ? { ...detail, message: t('page-join-enter-phone') } : detail));
  const message = details.length === 1
    ? t('page-join-fix-one')
    : t('page-join-fix-many', { count: details.length });
  return new ApiError(error.status, error.code, message, details);
}

function afterRequest(out) {
  if (out.state === 'pending_verification') showCode();
  else showDone(out);
}

// ---- step 2: the code ----

function showCode(notice = '') {
  const phone = phoneText(likelyE164(submitted.phone));
  const heading = h('h2', { id: 'code-h' }, t('page-join-confirm-title'));
  const code = field({
    label: t('page-join-code'), name: 'code', required: true,
    hint: t(onWhatsapp() ? 'page-join-code-hint-whatsapp' : 'page-join-code-hint'),
    attrs: { inputmode: 'numeric', autocomplete: 'one-time-code', enterkeyhint: 'done', maxlength: 12 },
  });
  const status = h('p', { class: 'join-status', role: 'status' }, notice);
  const confirm = h('button', { type: 'submit', class: 'primary' }, t('page-join-confirm'));
  const resend = h('button', { type: 'button' }, t(onWhatsapp() ? 'page-join-resend-whatsapp' : 'page-join-resend'));
  const back = h('button', { type: 'button', class: 'link' }, t('page-join-change'));
  const form = h('form', { novalidate: true, 'aria-labelledby': 'code-h' }, code,
    h('div', { class: 'actions' }, confirm, resend));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(confirm, () => verify(form, code));
  });
  resend.addEventListener('click', () => busy(resend, () => sendAgain(form, status, phone)));
  back.addEventListener('click', () => showDetails());
  const strongPhone = () => h('strong', { class: 'join-number' }, phone);
  show(`${t('page-join-confirm-title')} · ${card.name}`, heading, h('section', { class: 'card', 'aria-labelledby': 'code-h' },
    h('p', { class: 'join-step' }, t('page-join-step-2')), heading,
    h('p', {}, around(t(onWhatsapp() ? 'page-join-code-sent-whatsapp' : 'page-join-code-sent', { phone }), phone, strongPhone())),
    sandbox && h('p', { class: 'join-sandbox' },
      around(t(onWhatsapp() ? 'page-join-code-sandbox-whatsapp' : 'page-join-code-sandbox', { phone }), phone, strongPhone()),
      ' ', sandboxLink('/sandbox'), '.'),
    form, status, h('p', {}, t('page-join-wrong-number'), ' ', back)));
}

async function verify(form, code) {
  clearErrors(form);
  const digits = code.control.value.replace(/\D/g, '');
  if (!digits) {
    showErrors(form, new ApiError(400, 'validation_failed', t('page-join-enter-code'),
      [{ field: 'code', message: t('page-join-enter-code-field') }]));
    return;
  }
  try {
    const out = await api(`${joinPath}/verify`, { method: 'POST', body: { request_id: request.request_id, code: digits } });
    showDone(out);
  } catch (error) {
    // The API's message at the top (read out), the code marked wrong, and the cursor back in it.
    showErrors(form, error);
    code.control.setAttribute('aria-invalid', 'true');
    code.control.select();
    code.control.focus();
  }
}

async function sendAgain(form, status, phone) {
  clearErrors(form);
  status.textContent = '';
  try {
    const out = await api(joinPath, { method: 'POST', body: submitted });
    request = out;
    if (out.state !== 'pending_verification') return showDone(out);
    status.textContent = t(onWhatsapp() ? 'page-join-resent-whatsapp' : 'page-join-resent', { phone });
    form.querySelector('[name="code"]').focus();
  } catch (error) {
    showErrors(form, error);
  }
}

// ---- done ----

function showDone(out) {
  const number = phoneText(card.phone_number);
  const name = submitted?.name ?? '';
  const whatsapp = onWhatsapp();
  let heading;
  let next;
  if (out.state === 'approved') {
    heading = h('h2', { id: 'done-h' }, t('page-join-in', { name }));
    next = [h('p', {}, t(whatsapp ? 'page-join-in-next-whatsapp' : 'page-join-in-next'))];
  } else if (out.state === 'pending') {
    heading = h('h2', { id: 'done-h' }, t('page-join-pending', { name }));
    next = [h('p', {}, t(whatsapp ? 'page-join-pending-next-whatsapp' : 'page-join-pending-next'))];
  } else {
    heading = h('h2', { id: 'done-h' }, t('page-join-request'));
    next = [h('p', {}, out.message)];
  }
  const tips = whatsapp ? whatsappTips(out) : h('ul', { class: 'join-next' },
    h('li', {}, t('page-join-tip-number'), ' ', h('a', { class: 'join-number', href: `sms:${card.phone_number}` }, number),
      t('page-join-tip-save', { neighborhood: card.name })),
    h('li', {}, t('page-join-tip-leave')),
    h('li', {}, t('page-join-tip-stop')));
  show(`${t(out.state === 'approved' ? 'page-join-in-title' : 'page-join-sent-title')} · ${card.name}`, heading,
    h('section', { class: 'card join-done', 'aria-labelledby': 'done-h' },
      h('div', { class: 'success' }, heading, next), h('h3', {}, t('page-join-next')), tips,
      sandbox && h('p', { class: 'join-sandbox' }, t('page-join-done-sandbox'), ' ', sandboxLink('/sandbox'), '.')));
}

/**
 * On WhatsApp the group reaches a neighbor freely only within 24 hours of their own last message
 * (WhatsApp's rule): until they write, they get a short notice and reply READ for the rest.
 */
function whatsappTips(out) {
  const number = card.whatsapp.number;
  return h('ul', { class: 'join-next' },
    h('li', {}, t('page-join-tip-whatsapp-number'), ' ',
      h('a', { class: 'join-number', href: whatsappLink(number), target: '_blank', rel: 'noopener' },
        phoneText(number), h('span', { class: 'vh' }, ` ${t('page-join-opens-whatsapp')}`)),
      t('page-join-tip-save', { neighborhood: card.name })),
    h('li', {}, t(out.state === 'approved' ? 'page-join-tip-read-in' : 'page-join-tip-read-pending')),
    h('li', {}, t('page-join-tip-whatsapp-leave')));
}

window.addEventListener('unhandledrejection', (event) => {
  // Never a stack trace: a plain sentence in place of whatever broke.
  event.preventDefault();
  loadFailed(event.reason);
});

load();
