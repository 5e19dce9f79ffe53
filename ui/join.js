// The public join page, /join/{slug}: a neighbor asks to join a neighborhood's group text (step 1),
// then confirms their phone with the 6-digit code texted to it (step 2). Everything it says about
// the neighborhood comes from the join card (GET /api/v1/join/{slug}); every failure shows the
// API's own words. Text is only ever set with textContent.

import { api, ApiError, errorText } from '/app/api.js';
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
    h('span', { class: 'vh' }, ' (opens in a new tab)'));
}

// ---- loading ----

async function load() {
  if (!slug) return notFound();
  main.setAttribute('aria-busy', 'true');
  const health = api('/health').catch(() => null);
  try {
    card = await api(joinPath);
  } catch (error) {
    return loadFailed(error);
  }
  sandbox = Boolean((await health)?.sandbox);
  if (sandbox) {
    banner.replaceChildren(h('strong', {}, 'Sandbox: '),
      'no real texts are sent. Codes and texts arrive on the ', sandboxLink('simulated phones'), '.');
    banner.hidden = false;
  }
  detailsView = buildDetails();
  showDetails();
}

function notFound() {
  const heading = h('h1', {}, 'We can’t find this neighborhood');
  show('Neighborhood not found', heading, h('section', { class: 'card join-state' }, heading,
    h('p', {}, 'The link may be mistyped or out of date. Check it against the one you were sent, or ask the neighbor who shared it for the link again.'),
    h('p', { class: 'muted' }, 'If a neighborhood’s number texted you, you can also text JOIN and your name to that number.')));
}

function loadFailed(error) {
  if (error instanceof ApiError && error.status === 404) return notFound();
  if (error instanceof ApiError && error.code === 'neighborhood_archived') {
    const heading = h('h1', {}, 'This neighborhood is closed');
    return show('Neighborhood closed', heading,
      h('section', { class: 'card join-state' }, heading, h('p', {}, error.message)));
  }
  const heading = h('h1', {}, 'We couldn’t load this page');
  const retry = h('button', { type: 'button', class: 'primary', onclick: () => load() }, 'Try again');
  show('Could not load', heading, h('section', { class: 'card join-state' }, heading,
    h('div', { class: 'alert', role: 'alert' }, h('p', {}, errorText(error))), retry));
}

// ---- step 1: who you are ----

const POLICY_NOTES = {
  approval: 'A captain looks at each request before letting someone in.',
  open: 'You’re in as soon as you confirm your phone.',
  invite_only: 'This group takes new members by personal invitation.',
};
const INVITED_NOTE = 'You were invited: ask with the phone number your invite was texted to.';

function intro() {
  return h('header', { class: 'join-head' },
    h('p', { class: 'join-kicker' }, 'Neighborhood group text'),
    h('h1', { id: 'join-title' }, `Join ${card.name}`),
    card.description && h('p', { class: 'join-description' }, card.description),
    h('p', {}, 'Everyone texts one number, ', h('strong', { class: 'join-number' }, phoneText(card.phone_number)),
      ', and each text reaches the whole group, signed with the sender’s name. No app needed: any phone that can text works.'),
    h('p', { class: 'muted' }, card.join_policy === 'invite_only' && invite ? INVITED_NOTE : POLICY_NOTES[card.join_policy] ?? ''));
}

function buildDetails() {
  const heading = h('h2', { id: 'details-h' }, 'Your details');
  const step = h('p', { class: 'join-step' }, 'Step 1 of 2');
  if (card.join_policy === 'invite_only' && !invite) {
    heading.textContent = 'How to join';
    return { heading, node: h('div', {}, intro(), h('section', { class: 'card', 'aria-labelledby': 'details-h' }, heading,
      h('p', {}, 'This neighborhood takes new members by invitation only. Ask a captain for a personal invite link: it is texted to your phone and brings you back here.'))) };
  }
  const fields = [
    field({ label: 'Your name', name: 'name', required: true, hint: 'Neighbors see it on your texts, for example “Ana R.”', attrs: { autocomplete: 'name', maxlength: 40 } }),
    field({ label: 'Mobile number', name: 'phone', type: 'tel', required: true, hint: card.whatsapp
      ? 'Your own mobile, with its area code. We send a 6-digit code to it, by text or on WhatsApp as you choose below.'
      : 'Your own mobile, with its area code. We text a 6-digit code to it.', attrs: { autocomplete: 'tel', inputmode: 'tel' } }),
    field({ label: 'Street address', name: 'address', hint: 'Optional. Only the captains see it.', attrs: { autocomplete: 'street-address', maxlength: 200 } }),
    ...card.join_questions.map((question) => field({
      label: question.text, name: `answers.${question.id}`, type: 'textarea', required: question.required,
      hint: question.required ? null : 'Optional.', attrs: { rows: 2, maxlength: 500 },
    })),
  ];
  const consentText = h('span', {}, card.consent_text);
  const consent = field({ label: [consentText, h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')], name: 'consent', type: 'checkbox' });
  consent.classList.add('join-consent');
  consent.control.required = true;
  // Where the neighborhood has a WhatsApp number, the neighbor picks the app the group reaches
  // them in; what they agree to names it.
  const channel = card.whatsapp ? choices({
    legend: 'How you get the group’s messages', name: 'channel', value: 'sms', options: [
      ['sms', 'Text messages (SMS)', 'Any phone that can text. Messages come from ' + phoneText(card.phone_number) + '.'],
      ['whatsapp', 'WhatsApp', 'In the WhatsApp app. Messages come from ' + phoneText(card.whatsapp.number) + ' on WhatsApp, and so does your code.'],
    ],
  }) : null;
  const button = h('button', { type: 'submit', class: 'primary' }, 'Text me a code');
  channel?.addEventListener('change', () => {
    const whatsapp = channel.value() === 'whatsapp';
    consentText.textContent = whatsapp ? card.whatsapp.consent_text : card.consent_text;
    button.textContent = whatsapp ? 'Send me a code on WhatsApp' : 'Text me a code';
  });
  if (channel) fields.splice(2, 0, channel);
  const form = h('form', { novalidate: true, 'aria-labelledby': 'details-h' },
    h('p', { class: 'hint' }, 'Fields marked ', h('span', { class: 'req' }, '*'), ' are required.'),
    fields, consent, h('div', { class: 'actions' }, button));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(button, () => submitDetails(form, consent, channel));
  });
  return { heading, node: h('div', {}, intro(), h('section', { class: 'card', 'aria-labelledby': 'details-h' }, step, heading, form)) };
}

function showDetails() {
  show(`Join ${card.name}`, detailsView.node.querySelector('h1'), detailsView.node);
}

async function submitDetails(form, consent, channel) {
  clearErrors(form);
  const value = (name) => form.querySelector(`[name="${CSS.escape(name)}"]`).value.trim();
  const answers = {};
  for (const question of card.join_questions) {
    const answer = value(`answers.${question.id}`);
    if (answer) answers[question.id] = answer;
  }
  const body = { name: value('name'), phone: value('phone'), answers, consent: consent.control.checked };
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
    ? { ...detail, message: 'Enter your mobile number.' } : detail));
  const message = details.length === 1
    ? 'Please fix the field marked below.'
    : `Please fix the ${details.length} fields marked below.`;
  return new ApiError(error.status, error.code, message, details);
}

function afterRequest(out) {
  if (out.state === 'pending_verification') showCode();
  else showDone(out);
}

// ---- step 2: the code ----

function showCode(notice = '') {
  const phone = phoneText(likelyE164(submitted.phone));
  const heading = h('h2', { id: 'code-h' }, 'Confirm your phone');
  const code = field({
    label: '6-digit code', name: 'code', required: true, hint: onWhatsapp()
      ? 'It comes in WhatsApp, from the neighborhood’s WhatsApp number. The code expires in 10 minutes.'
      : 'The code expires in 10 minutes.',
    attrs: { inputmode: 'numeric', autocomplete: 'one-time-code', enterkeyhint: 'done', maxlength: 12 },
  });
  const status = h('p', { class: 'join-status', role: 'status' }, notice);
  const confirm = h('button', { type: 'submit', class: 'primary' }, 'Confirm');
  const resend = h('button', { type: 'button' }, onWhatsapp() ? 'Send me a new code' : 'Text me a new code');
  const back = h('button', { type: 'button', class: 'link' }, 'Change my details');
  const form = h('form', { novalidate: true, 'aria-labelledby': 'code-h' }, code,
    h('div', { class: 'actions' }, confirm, resend));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(confirm, () => verify(form, code));
  });
  resend.addEventListener('click', () => busy(resend, () => sendAgain(form, status, phone)));
  back.addEventListener('click', () => showDetails());
  show(`Confirm your phone · ${card.name}`, heading, h('section', { class: 'card', 'aria-labelledby': 'code-h' },
    h('p', { class: 'join-step' }, 'Step 2 of 2'), heading,
    onWhatsapp()
      ? h('p', {}, 'Enter the code we sent on WhatsApp to ', h('strong', { class: 'join-number' }, phone), '.')
      : h('p', {}, 'Enter the code we texted to ', h('strong', { class: 'join-number' }, phone), '.'),
    sandbox && h('p', { class: 'join-sandbox' }, 'Sandbox: no real message is sent. The code arrives on the simulated ',
      onWhatsapp() ? 'WhatsApp phone ' : 'phone ', h('strong', { class: 'join-number' }, phone), ' at ', sandboxLink('/sandbox'), '.'),
    form, status, h('p', {}, 'Wrong number? ', back)));
}

async function verify(form, code) {
  clearErrors(form);
  const digits = code.control.value.replace(/\D/g, '');
  if (!digits) {
    showErrors(form, new ApiError(400, 'validation_failed', 'Enter the code from the text.',
      [{ field: 'code', message: 'Enter the 6 digits from the text we sent.' }]));
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
    status.textContent = onWhatsapp()
      ? `We sent a new code on WhatsApp to ${phone}. Use the newest one.`
      : `We texted a new code to ${phone}. Use the newest one.`;
    form.querySelector('[name="code"]').focus();
  } catch (error) {
    showErrors(form, error);
  }
}

// ---- done ----

function showDone(out) {
  const number = phoneText(card.phone_number);
  const name = submitted?.name ?? '';
  let heading;
  let next;
  if (out.state === 'approved') {
    heading = h('h2', { id: 'done-h' }, `You’re in, ${name}!`);
    next = [h('p', {}, onWhatsapp()
      ? 'Your welcome is waiting for you on WhatsApp. From now on, what you write to the group’s WhatsApp number reaches the whole group.'
      : 'Your welcome text is on its way. From now on, what you text to the number reaches the whole group.')];
  } else if (out.state === 'pending') {
    heading = h('h2', { id: 'done-h' }, `Thanks, ${name}: your phone is confirmed`);
    next = [h('p', {}, onWhatsapp()
      ? 'A captain will review your request. When they let you in, your welcome waits for you on WhatsApp, and from then on what you write to the group’s WhatsApp number reaches the whole group.'
      : 'A captain will review your request. When they let you in, you’ll get a welcome text from the group’s number, and from then on what you text to it reaches the whole group.')];
  } else {
    heading = h('h2', { id: 'done-h' }, 'Your request');
    next = [h('p', {}, out.message)];
  }
  const tips = onWhatsapp() ? whatsappTips(out) : h('ul', { class: 'join-next' },
    h('li', {}, 'The number to text: ', h('a', { class: 'join-number', href: `sms:${card.phone_number}` }, number),
      `. Save it in your contacts as “${card.name}”.`),
    h('li', {}, 'Text ', h('strong', {}, 'LEAVE'), ' to that number to leave the group at any time.'),
    h('li', {}, 'Text ', h('strong', {}, 'STOP'), ' to stop all texts from this service, or ', h('strong', {}, 'HELP'), ' for help.'));
  show(`${out.state === 'approved' ? 'You’re in' : 'Request sent'} · ${card.name}`, heading,
    h('section', { class: 'card join-done', 'aria-labelledby': 'done-h' },
      h('div', { class: 'success' }, heading, next), h('h3', {}, 'What happens next'), tips,
      sandbox && h('p', { class: 'join-sandbox' }, 'Sandbox: texts to and from this phone appear at ', sandboxLink('/sandbox'), '.')));
}

/**
 * On WhatsApp the group reaches a neighbor freely only within 24 hours of their own last message
 * (WhatsApp's rule): until they write, they get a short notice and reply READ for the rest.
 */
function whatsappTips(out) {
  const number = card.whatsapp.number;
  return h('ul', { class: 'join-next' },
    h('li', {}, 'The group’s WhatsApp number: ', h('a', { class: 'join-number', href: whatsappLink(number), target: '_blank', rel: 'noopener' },
      phoneText(number), h('span', { class: 'vh' }, ' (opens WhatsApp)')), `. Save it in your contacts as “${card.name}”.`),
    h('li', {}, out.state === 'approved'
      ? 'WhatsApp tells you there are new messages in the group: reply '
      : 'When you are in, WhatsApp tells you there are new messages in the group: reply ',
    h('strong', {}, 'READ'), ' to read them. After a day without writing to the group, you get that notice again instead of every message.'),
    h('li', {}, 'Write ', h('strong', {}, 'LEAVE'), ' to that number to leave the group at any time, ',
      h('strong', {}, 'STOP'), ' to stop all messages, or ', h('strong', {}, 'HELP'), ' for help.'));
}

window.addEventListener('unhandledrejection', (event) => {
  // Never a stack trace: a plain sentence in place of whatever broke.
  event.preventDefault();
  loadFailed(event.reason);
});

load();
