// Simulated phones for the neighborhood-text sandbox. No framework; data is
// only ever written with textContent, never as HTML.

const $ = (id) => document.getElementById(id);
const form = $('send-form');
const fromInput = $('from');
const toSelect = $('to');
const bodyInput = $('body');
const mediaInput = $('media');
const mediaHint = $('media-hint');
const sendBtn = $('send');
const outcomeEl = $('outcome');
const errorEl = $('error');
const toEmpty = $('to-empty');
const phonesEl = $('phones');
const phonesEmpty = $('phones-empty');
const loadError = $('load-error');
const connEl = $('conn');
const announcer = $('announcer');
const findInput = $('find');
const findCount = $('find-count');

const PHONE_KEY = 'neighborhood-text.sandbox.phone';
const TO_KEY = 'neighborhood-text.sandbox.to';
const OUTCOMES = {
  conversation: 'Sent to the group.',
  sms_webhook: "Sent to the number's webhook (not a member yet).",
  rejected: 'Kept out of the group by the service.',
  unrouted: 'Nobody answered: the number has no webhook.',
};
// Keywords that may flip a phone's opted-out flag.
const KEYWORD = /^\s*(stop|stopall|unsubscribe|cancel|end|quit|optout|revoke|start|yes|unstop|optin)\s*$/i;

// A WhatsApp phone or sender is its number with this prefix, as Twilio writes it.
const WHATSAPP = 'whatsapp:';
const onWhatsapp = (address) => address.startsWith(WHATSAPP);
const bare = (address) => (onWhatsapp(address) ? address.slice(WHATSAPP.length) : address);

const numberNames = new Map(); // phone_number or whatsapp:phone_number -> what the page calls it
const cards = new Map(); // phone -> { article, title, list, badge, empty, keys, items, name, latest }
let numbersKnown = false;
let busy = false;

const store = {
  get(key) { try { return localStorage.getItem(key) || ''; } catch { return ''; } },
  set(key, value) { try { localStorage.setItem(key, value); } catch { /* storage unavailable */ } },
};

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

class ApiError extends Error {
  constructor(message, details = []) { super(message); this.details = details; }
}

async function api(path, init = {}) {
  const headers = { accept: 'application/json' };
  if (init.body) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { ...init, headers });
  } catch {
    throw new ApiError('Could not reach the sandbox server. Is it still running?');
  }
  let data = null;
  try { data = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    const message = typeof data?.message === 'string' && data.message
      ? data.message
      : `The server answered with status ${res.status}.`;
    throw new ApiError(message, Array.isArray(data?.details) ? data.details : []);
  }
  if (data === null || typeof data !== 'object') {
    throw new ApiError('The server sent an answer this page could not read.');
  }
  return data;
}

const errorText = (err) => (err instanceof ApiError ? err.message : 'Something went wrong. Please try again.');

function detailText(d) {
  if (typeof d === 'string') return d;
  if (d && typeof d.message === 'string') return d.field ? `${d.field}: ${d.message}` : d.message;
  return null;
}

function showError(target, err, prefix = '') {
  target.replaceChildren(el('p', null, prefix + errorText(err)));
  const details = (err.details || []).map(detailText).filter(Boolean);
  if (details.length) {
    const ul = el('ul');
    for (const d of details) ul.append(el('li', null, d));
    target.append(ul);
  }
}

// ---- Pictures ----

// What the control API takes from a phone (more than carriers do, on purpose: see the API).
const MAX_MEDIA = 20;
const MAX_MEDIA_BYTES = 10 * 1024 * 1024;
// Shown inline; anything else is a download link. Served by /sandbox/api/media/{sid}.
const PICTURE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);
const MEDIA_SID = /^ME[0-9a-fA-F]{32}$/;

function sizeText(bytes) {
  if (!Number.isFinite(bytes)) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

const mediaOf = (m) => (Array.isArray(m.media) ? m.media.filter((x) => x && MEDIA_SID.test(x.sid || '')) : []);

function mediaList(media) {
  const ul = el('ul', 'media');
  for (const item of media) {
    const li = el('li');
    const type = typeof item.content_type === 'string' ? item.content_type : '';
    const label = `${PICTURE_TYPES.has(type) ? 'Picture' : 'Attachment'} (${type || 'unknown type'}, ${sizeText(item.size)})`;
    const url = `/sandbox/api/media/${encodeURIComponent(item.sid)}`;
    const link = el('a');
    link.href = url;
    link.target = '_blank';
    link.rel = 'noopener';
    if (PICTURE_TYPES.has(type)) {
      const img = el('img');
      img.src = url;
      img.alt = label;
      img.loading = 'lazy';
      link.append(img);
    } else {
      link.textContent = label;
    }
    li.append(link);
    ul.append(li);
  }
  return ul;
}

/** The chosen files as the control API takes them: [{content_type, data_base64}]. */
function readMedia(files) {
  return Promise.all([...files].map((file) => new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result);
      resolve({ content_type: file.type || 'application/octet-stream', data_base64: url.slice(url.indexOf(',') + 1) });
    };
    reader.onerror = () => reject(new ApiError(`Could not read ${file.name}.`));
    reader.readAsDataURL(file);
  })));
}

function describeChosen() {
  const files = [...mediaInput.files];
  const total = files.reduce((sum, f) => sum + f.size, 0);
  mediaHint.textContent = files.length
    ? `${files.length} file${files.length === 1 ? '' : 's'}, ${sizeText(total)}. Carriers take 10 items and 5 MB in one MMS.`
    : 'Optional. Carriers take 10 items and 5 MB in one MMS.';
}

// ---- Time ----

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });

function timeEl(iso) {
  const t = el('time');
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) {
    t.textContent = iso || '';
    return t;
  }
  t.dateTime = iso;
  t.title = d.toLocaleString();
  t.textContent = (d.toDateString() === new Date().toDateString() ? timeFmt : dayFmt).format(d);
  return t;
}

// ---- Numbers ----

function labelSender(span, from) {
  const name = numberNames.get(from);
  span.textContent = name || from || 'Unknown sender';
  span.title = name ? from : '';
}

function applyNumbers(numbers, whatsappSenders) {
  numberNames.clear();
  const valid = numbers.filter((n) => n && typeof n.phone_number === 'string');
  for (const n of valid) numberNames.set(n.phone_number, n.friendly_name || '');
  // A WhatsApp sender is one of the numbers, reached in the WhatsApp app.
  const senders = whatsappSenders.filter((address) => typeof address === 'string' && onWhatsapp(address));
  for (const address of senders) {
    const name = numberNames.get(bare(address));
    numberNames.set(address, `${name || bare(address)} on WhatsApp`);
  }
  const previous = toSelect.value || store.get(TO_KEY);
  toSelect.replaceChildren(
    ...valid.map((n) => new Option(
      n.friendly_name ? `${n.friendly_name} (${n.phone_number})` : n.phone_number, n.phone_number)),
    ...senders.map((address) => new Option(`${numberNames.get(address)} (${bare(address)})`, address)));
  if (numberNames.has(previous)) toSelect.value = previous;
  numbersKnown = true;
  toSelect.disabled = valid.length === 0;
  toEmpty.hidden = valid.length > 0;
  updateSendState();
  for (const span of phonesEl.querySelectorAll('.from')) labelSender(span, span.dataset.from);
}

// ---- Phone cards ----

const msgKey = (m) => m.sid || `${m.date_created}|${m.from}|${m.body}`;

function setStatus(li, status) {
  const failed = Boolean(status) && status !== 'delivered';
  li.classList.toggle('failed', failed);
  const s = li.querySelector('.status');
  s.textContent = failed ? `Not delivered (${status})` : '';
  s.hidden = !failed;
}

function messageItem(m) {
  const li = el('li', 'msg');
  const meta = el('p', 'meta');
  const who = el('span');
  const from = el('span', 'from');
  from.dataset.from = m.from || '';
  labelSender(from, m.from);
  who.append(el('span', 'vh', 'From '), from);
  meta.append(who, timeEl(m.date_created));
  li.append(meta);
  if (m.body) li.append(el('p', 'text', m.body));
  const media = mediaOf(m);
  if (media.length) li.append(mediaList(media));
  li.append(el('p', 'status'));
  setStatus(li, m.status);
  return li;
}

/** What the list of a phone's messages is called: "Texts received by …" or, on WhatsApp, "WhatsApp messages received by …". */
const inboxLabel = (phone, who) => `${onWhatsapp(phone) ? 'WhatsApp messages' : 'Texts'} received by ${who}`;

/**
 * Points "To" at the same neighborhood on the phone's channel: a WhatsApp phone writes to a
 * WhatsApp sender, an SMS phone texts a number. Returns false when that neighborhood has none.
 */
function matchChannel(from) {
  const to = toSelect.value;
  if (!to || onWhatsapp(from) === onWhatsapp(to)) return true;
  const counterpart = onWhatsapp(from) ? `${WHATSAPP}${to}` : bare(to);
  if (!numberNames.has(counterpart)) return false;
  toSelect.value = counterpart;
  return true;
}

function ensureCard(phone) {
  let card = cards.get(phone);
  if (card) return card;
  const whatsapp = onWhatsapp(phone);
  const shown = bare(phone);
  const headingId = `phone-${cards.size + 1}`;
  const article = el('article', whatsapp ? 'card whatsapp' : 'card');
  article.setAttribute('aria-labelledby', headingId);
  const head = el('div', 'card-head');
  const h = el('h3', null, shown);
  h.id = headingId;
  const badge = el('span', 'badge', 'opted out');
  badge.hidden = true;
  head.append(h);
  if (whatsapp) head.append(el('span', 'badge channel', 'WhatsApp'));
  head.append(badge);
  const number = el('p', 'card-number', shown);
  number.hidden = true;

  const list = el('ol', 'inbox');
  list.tabIndex = 0; // scrollable region must be reachable by keyboard
  list.setAttribute('aria-label', inboxLabel(phone, shown));
  list.hidden = true;
  const empty = el('p', 'inbox-empty', whatsapp ? 'No WhatsApp messages received yet.' : 'No texts received yet.');

  const btn = el('button', 'secondary', whatsapp ? 'Write as this WhatsApp phone' : 'Text as this phone');
  btn.type = 'button';
  btn.append(el('span', 'vh', ` ${shown}`));
  btn.addEventListener('click', () => {
    fromInput.value = phone;
    fromInput.removeAttribute('aria-invalid');
    errorEl.replaceChildren();
    matchChannel(phone);
    outcomeEl.textContent = whatsapp ? `Now writing on WhatsApp as ${shown}.` : `Now texting as ${phone}.`;
    bodyInput.focus();
  });

  article.append(head, number, list, empty, btn);
  phonesEl.prepend(article);
  phonesEmpty.hidden = true;
  card = { phone, article, title: h, number, list, badge, empty, keys: [], items: new Map(), name: '', latest: '' };
  cards.set(phone, card);
  showIfFound(card);
  countFound();
  return card;
}

/** Names the card after the member(s) the phone belongs to, with the number beneath. */
function nameCard(card, name) {
  if (!name || name === card.name) return;
  card.name = name;
  card.title.textContent = name;
  card.number.hidden = false;
  card.list.setAttribute('aria-label', inboxLabel(card.phone, `${name} (${bare(card.phone)})`));
  showIfFound(card);
}

// ---- Finding a phone among hundreds ----

/** Lower case without accents: "Núñez" and "nunez" match. */
const fold = (text) => text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();

function found(card, query) {
  if (!query) return true;
  const digits = query.replace(/\D/g, '');
  if (digits.length >= 3 && card.phone.replace(/\D/g, '').includes(digits)) return true;
  return fold(card.name).includes(fold(query));
}

function showIfFound(card) {
  card.article.hidden = !found(card, findInput.value.trim());
}

function countFound() {
  const query = findInput.value.trim();
  if (!query) {
    findCount.textContent = cards.size ? `${cards.size} phone${cards.size === 1 ? '' : 's'}, the most recent first.` : '';
    return;
  }
  const shown = [...cards.values()].filter((card) => !card.article.hidden).length;
  findCount.textContent = `${shown} of ${cards.size} phones match.`;
}

findInput.addEventListener('input', () => {
  for (const card of cards.values()) showIfFound(card);
  countFound();
});

/** The phone that just got a text moves to the top: the one being watched is usually there. */
function bringToTop(card, when) {
  if (when && when <= card.latest) return;
  if (when) card.latest = when;
  if (phonesEl.firstElementChild !== card.article) phonesEl.prepend(card.article);
}

function appendMessage(card, m, key) {
  const li = messageItem(m);
  card.items.set(key, li);
  card.keys.push(key);
  card.list.append(li);
}

function refreshCard(card) {
  const has = card.keys.length > 0;
  card.list.hidden = !has;
  card.empty.hidden = has;
  if (has) card.list.scrollTop = card.list.scrollHeight;
}

function applyInbox(card, inbox) {
  const keys = inbox.map(msgKey);
  const isPrefix = card.keys.length <= keys.length && card.keys.every((k, i) => k === keys[i]);
  let added = !isPrefix;
  if (!isPrefix) {
    card.list.replaceChildren();
    card.items.clear();
    card.keys = [];
  }
  inbox.forEach((m, i) => {
    const li = card.items.get(keys[i]);
    if (li) {
      setStatus(li, m.status);
    } else {
      appendMessage(card, m, keys[i]);
      added = true;
    }
  });
  if (added) refreshCard(card);
}

const latestIn = (inbox) => inbox.reduce((latest, m) => (m?.date_created > latest ? m.date_created : latest), '');

function applyState(state) {
  applyNumbers(Array.isArray(state.numbers) ? state.numbers : [],
    Array.isArray(state.whatsapp_senders) ? state.whatsapp_senders : []);
  const phones = (Array.isArray(state.phones) ? state.phones : [])
    .filter((p) => p && typeof p.phone === 'string')
    .map((p) => ({ ...p, inbox: Array.isArray(p.inbox) ? p.inbox : [] }));
  // Oldest activity first, each moved to the top: the most recent ends up first.
  phones.sort((a, b) => latestIn(a.inbox).localeCompare(latestIn(b.inbox)));
  for (const p of phones) {
    const card = ensureCard(p.phone);
    card.badge.hidden = !p.opted_out;
    if (typeof p.name === 'string') nameCard(card, p.name);
    applyInbox(card, p.inbox);
    bringToTop(card, latestIn(p.inbox));
  }
  countFound();
}

function announce(text) {
  const line = el('p', null, text.length > 300 ? `${text.slice(0, 300)}…` : text);
  announcer.append(line);
  while (announcer.childElementCount > 5) announcer.firstElementChild.remove();
}

function applyDelivered(ev, live) {
  const m = ev.message;
  if (typeof ev.phone !== 'string' || !m || typeof m !== 'object') return;
  const card = ensureCard(ev.phone);
  const key = msgKey(m);
  const existing = card.items.get(key);
  if (existing) {
    setStatus(existing, m.status);
    return;
  }
  appendMessage(card, m, key);
  refreshCard(card);
  bringToTop(card, m.date_created);
  if (live) {
    const sender = numberNames.get(m.from) || m.from || 'unknown sender';
    const count = mediaOf(m).length;
    const pictures = count ? ` (with ${count} attachment${count === 1 ? '' : 's'})` : '';
    announce(`New text to ${ev.phone} from ${sender}${pictures}: ${m.body ?? ''}`);
  }
}

// ---- State loading (coalesced) ----

let loading = null;
let reloadAgain = false;
let liveDuringLoad = null; // delivered events seen while a state fetch is in flight
let stateLoaded = false;

function loadState() {
  if (loading) {
    reloadAgain = true;
    return loading;
  }
  loading = (async () => {
    do {
      reloadAgain = false;
      liveDuringLoad = [];
      try {
        applyState(await api('/sandbox/api/state'));
        stateLoaded = true;
        // Until now an empty list meant "not loaded yet", not "no phone".
        phonesEl.removeAttribute('aria-busy');
        // Events that raced the fetch may be missing from its answer.
        for (const ev of liveDuringLoad) applyDelivered(ev, false);
        loadError.replaceChildren();
      } catch (err) {
        showError(loadError, err, 'Could not load the phones: ');
      }
      liveDuringLoad = null;
    } while (reloadAgain);
    loading = null;
  })();
  return loading;
}

let refreshTimer = 0;
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(loadState, 300);
}

// ---- Live events ----

function setConn(state, text) {
  connEl.dataset.state = state;
  connEl.textContent = text;
}

function handleEvent(ev) {
  if (!ev || typeof ev !== 'object') return;
  if (ev.type === 'delivered') {
    if (liveDuringLoad) liveDuringLoad.push(ev);
    applyDelivered(ev, true);
  } else if (ev.type === 'sent') {
    if (typeof ev.phone === 'string') ensureCard(ev.phone);
    // Only a non-group text can change a phone's opted-out flag.
    if (ev.outcome !== 'conversation' || KEYWORD.test(ev.body || '')) refreshSoon();
  } else if (ev.type === 'numbers') {
    loadState();
  }
}

let retryTimer = 0;
function connect() {
  clearTimeout(retryTimer);
  if (typeof EventSource === 'undefined') {
    setConn('off', 'Live updates unavailable in this browser');
    return;
  }
  const source = new EventSource('/sandbox/api/events');
  source.addEventListener('open', () => {
    setConn('live', 'Live');
    // The first load, and after a reconnection a catch-up on anything missed: loading only once
    // the feed is open means nothing falls between the two, with one fetch of the state.
    loadState();
  });
  source.addEventListener('error', () => {
    // The phones show even when the live feed cannot open.
    if (!stateLoaded) loadState();
    if (source.readyState === EventSource.CLOSED) {
      // The browser gave up (e.g. a non-stream answer): retry ourselves.
      setConn('off', 'Disconnected, retrying…');
      retryTimer = setTimeout(connect, 5000);
    } else {
      setConn('reconnecting', 'Reconnecting…');
    }
  });
  source.addEventListener('message', (e) => {
    let ev;
    try { ev = JSON.parse(e.data); } catch { return; }
    handleEvent(ev);
  });
}

// ---- Sending ----

function updateSendState() {
  const blocked = busy || !numbersKnown || numberNames.size === 0;
  sendBtn.setAttribute('aria-disabled', String(blocked));
}

const normalizePhone = (value) => value.trim().replace(/[\s().-]/g, '');

function invalid(field, message) {
  field.setAttribute('aria-invalid', 'true');
  errorEl.replaceChildren(el('p', null, message));
  field.focus();
}

async function send(event) {
  event.preventDefault();
  if (busy) return;
  outcomeEl.replaceChildren();
  errorEl.replaceChildren();
  for (const f of [fromInput, toSelect, bodyInput, mediaInput]) f.removeAttribute('aria-invalid');

  const from = normalizePhone(fromInput.value);
  const to = toSelect.value;
  const body = bodyInput.value;
  if (!from) return invalid(fromInput, 'Enter your phone number, for example +15550001234.');
  if (!numbersKnown) return invalid(bodyInput, 'Still loading the neighborhood numbers. Try again in a moment.');
  if (!to) {
    errorEl.replaceChildren(el('p', null, 'There is no number to text yet: create a neighborhood first (see the API docs).'));
    return;
  }
  const files = [...mediaInput.files];
  if (!body.trim() && !files.length) return invalid(bodyInput, 'Write a message or attach a picture first.');
  if (files.length > MAX_MEDIA) return invalid(mediaInput, `Attach at most ${MAX_MEDIA} files.`);
  if (files.reduce((sum, f) => sum + f.size, 0) > MAX_MEDIA_BYTES) {
    return invalid(mediaInput, 'Attach at most 10 MB in all.');
  }
  if (!matchChannel(from)) {
    return invalid(toSelect, onWhatsapp(from)
      ? 'This neighborhood has no WhatsApp number: a WhatsApp phone (whatsapp:+1…) writes to one. Pick another, or text from a plain number.'
      : 'A plain number texts a neighborhood number, not its WhatsApp sender: pick the number itself.');
  }

  busy = true;
  updateSendState();
  form.setAttribute('aria-busy', 'true');
  try {
    const media = await readMedia(files);
    const res = await api(`/sandbox/api/phones/${encodeURIComponent(from)}/messages`, {
      method: 'POST',
      body: JSON.stringify({ to: toSelect.value, body, media }),
    });
    fromInput.value = from;
    store.set(PHONE_KEY, from);
    store.set(TO_KEY, toSelect.value);
    bodyInput.value = '';
    mediaInput.value = '';
    describeChosen();
    ensureCard(from);
    const sentence = OUTCOMES[res.outcome] || `Sent (${res.outcome || 'no outcome given'}).`;
    outcomeEl.replaceChildren(el('strong', null, sentence));
    if (typeof res.detail === 'string' && res.detail) outcomeEl.append(el('span', 'detail', res.detail));
  } catch (err) {
    showError(errorEl, err);
  } finally {
    busy = false;
    form.removeAttribute('aria-busy');
    updateSendState();
  }
}

form.addEventListener('submit', send);
bodyInput.addEventListener('keydown', (e) => {
  if (e.key !== 'Enter' || e.shiftKey || e.isComposing || e.keyCode === 229) return;
  e.preventDefault();
  if (form.requestSubmit) form.requestSubmit();
  else sendBtn.click();
});
for (const f of [fromInput, toSelect, bodyInput, mediaInput]) {
  f.addEventListener('input', () => f.removeAttribute('aria-invalid'));
}
mediaInput.addEventListener('change', describeChosen);
toSelect.addEventListener('change', () => store.set(TO_KEY, toSelect.value));

fromInput.value = store.get(PHONE_KEY);
if (typeof EventSource === 'undefined') loadState();
connect();
