// Building the page. Text is only ever set with textContent, never parsed as HTML, so nothing a
// neighbor types can become markup.

import { ApiError, errorText } from './api.js';
import { t } from './i18n.js';

/**
 * h('button', { class: 'primary', onclick: fn, 'aria-label': 'Approve Ben' }, 'Approve')
 * Attributes starting with "on" become listeners; false/null/undefined are left out; children may
 * be strings, numbers, nodes, arrays or null.
 */
export function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      node.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      node.className = value;
    } else if (name === 'value' && 'value' in node) {
      node.value = value;
    } else if (name === 'checked' || name === 'selected' || name === 'disabled') {
      node[name] = Boolean(value);
    } else {
      node.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

let nextId = 0;
/** A unique id for label/aria wiring. */
export const uid = (stem = 'f') => `${stem}-${++nextId}`;

/**
 * A labelled form field: { label, name, type, value, hint, required, options, attrs }.
 * Returns the wrapper; the control is `.control` and its error slot `.error`.
 */
export function field({ label, name, type = 'text', value = '', hint, required = false, options, attrs = {} }) {
  const id = uid(name);
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const described = [hintId, errorId].filter(Boolean).join(' ');
  let control;
  if (type === 'select') {
    control = h('select', { id, name, required, 'aria-describedby': described, ...attrs },
      options.map(([optionValue, text]) => h('option', { value: optionValue, selected: optionValue === value }, text)));
  } else if (type === 'textarea') {
    control = h('textarea', { id, name, required, 'aria-describedby': described, rows: 3, ...attrs });
    control.value = value ?? '';
  } else if (type === 'checkbox') {
    control = h('input', { id, name, type, checked: Boolean(value), 'aria-describedby': described, ...attrs });
  } else {
    control = h('input', { id, name, type, value, required, 'aria-describedby': described, ...attrs });
  }
  const error = h('p', { id: errorId, class: 'field-error', hidden: true });
  const wrapper = type === 'checkbox'
    ? h('div', { class: 'field check' }, control, h('label', { for: id }, label), hint && h('p', { id: hintId, class: 'hint' }, hint), error)
    : h('div', { class: 'field' }, h('label', { for: id }, label, required && h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')),
      hint && h('p', { id: hintId, class: 'hint' }, hint), control, error);
  wrapper.control = control;
  wrapper.error = error;
  return wrapper;
}

/** Radio buttons with an explanation under each; wrapped as a .field so showErrors finds it. */
export function choices({ legend, name, value, options }) {
  const error = h('p', { class: 'field-error', hidden: true });
  const set = h('fieldset', { class: 'choices' }, h('legend', {}, legend),
    options.map(([option, label, explanation], index) => {
      const id = `${name}-${index}`;
      return h('div', { class: 'choice' },
        h('input', { type: 'radio', id, name, value: option, checked: option === value, 'aria-describedby': `${id}-hint` }),
        h('label', { for: id }, label),
        h('p', { class: 'hint', id: `${id}-hint` }, explanation));
    }));
  const wrapper = h('div', { class: 'field' }, set, error);
  wrapper.value = () => set.querySelector('input:checked')?.value;
  return wrapper;
}

/** Clears what showErrors left in `form`. */
export function clearErrors(form) {
  for (const node of form.querySelectorAll('[aria-invalid]')) node.removeAttribute('aria-invalid');
  for (const node of form.querySelectorAll('.field-error')) { node.hidden = true; node.textContent = ''; }
  const summary = form.querySelector('.form-error');
  if (summary) summary.replaceChildren();
}

/**
 * Shows a failed request in `form`: the API's message at the top (role=alert) and each field
 * error next to its control (matched by name; "answers.q1" matches name="answers.q1").
 */
export function showErrors(form, error) {
  clearErrors(form);
  let summary = form.querySelector('.form-error');
  if (!summary) {
    summary = h('div', { class: 'form-error', role: 'alert' });
    form.prepend(summary);
  }
  summary.replaceChildren(h('p', {}, errorText(error)));
  let first = null;
  if (error instanceof ApiError) {
    for (const [name, message] of Object.entries(error.fieldMessages())) {
      const control = form.querySelector(`[name="${CSS.escape(name)}"]`);
      const slot = control?.closest('.field')?.querySelector('.field-error');
      if (control && slot) {
        control.setAttribute('aria-invalid', 'true');
        slot.textContent = message;
        slot.hidden = false;
        first ??= control;
      } else {
        summary.append(h('p', {}, t('app-shared-field-error', { field: name, message })));
      }
    }
  }
  (first ?? summary).focus?.();
  if (!first) summary.setAttribute('tabindex', '-1');
  if (!first) summary.focus();
}

/**
 * Runs `work` with `button` busy (disabled, aria-busy) and enables it after. The label is left to
 * `work`: a form that relabels its button while busy (the composer's "Schedule" back to "Send to
 * everyone") must keep the new label, or the button says one thing and does another.
 */
export async function busy(button, work) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

let current = null;

/**
 * A short message, one at a time, read out by screen readers (errors as alerts): a newer toast
 * replaces the older. It has a Dismiss button and may carry one `action` ({ label, run }), e.g.
 * Undo. It sits at the bottom of the screen and the page gets that much room below its content,
 * so the last controls can always be scrolled clear of it (see `keepClear`). `onClose(how)` hears
 * how it ended: 'timeout', 'dismissed', 'replaced' or 'action'. While focus is inside it, it
 * stays. Returns { close }.
 */
export function toast(message, { error = false, action = null, duration, onClose } = {}) {
  let region = document.getElementById('toasts');
  if (!region) {
    region = h('div', { id: 'toasts', class: 'toasts' });
    document.body.append(region);
  }
  // Live regions that stay in the page are announced reliably; they get the words only, not
  // the buttons' names. Errors interrupt, the rest waits its turn.
  const said = (id, role) => document.getElementById(id)
    ?? document.body.appendChild(h('p', { id, class: 'vh', role }));
  const live = said('toast-status', 'status');
  const alert = said('toast-alert', 'alert');
  (error ? live : alert).textContent = '';
  (error ? alert : live).textContent = message;
  current?.close('replaced');
  let timer = null;
  let closed = false;
  const text = h('p', { class: 'toast-text' }, message);
  const actionButton = action ? h('button', { type: 'button', class: 'toast-action' }, action.label) : null;
  const dismiss = h('button', { type: 'button', class: 'toast-dismiss' }, t('app-shared-dismiss'));
  const note = h('div', { class: error ? 'toast bad' : 'toast' }, text, h('div', { class: 'toast-buttons' }, actionButton, dismiss));
  const handle = {
    close(how = 'dismissed') {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      const hadFocus = note.contains(document.activeElement);
      note.remove();
      if (current === handle) current = null;
      makeRoom(region);
      onClose?.(how);
      if (hadFocus && how !== 'replaced') document.querySelector('main h2[tabindex], main h2, main')?.focus?.();
    },
  };
  const wait = duration ?? (error ? 10000 : action ? 6000 : 5000);
  const start = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      // Someone working in the toast (about to press Undo) keeps it.
      if (note.contains(document.activeElement)) return;
      handle.close('timeout');
    }, wait);
  };
  note.addEventListener('focusout', (event) => {
    if (!note.contains(event.relatedTarget)) start();
  });
  dismiss.addEventListener('click', () => handle.close('dismissed'));
  actionButton?.addEventListener('click', () => {
    handle.close('action');
    action.run();
  });
  region.replaceChildren(note);
  current = handle;
  makeRoom(region);
  start();
  return handle;
}

/** Gives the page room below its content for the toast, so nothing is left under it. */
function makeRoom(region) {
  const height = region.childElementCount ? region.getBoundingClientRect().height : 0;
  document.body.style.setProperty('--toast-room', `${Math.ceil(height)}px`);
}

/** Scrolls `element` into view, above the toast if one is showing. */
export function keepClear(element) {
  element.scrollIntoView({ block: 'nearest' });
  const region = document.getElementById('toasts');
  if (!region?.childElementCount) return;
  const covered = element.getBoundingClientRect().bottom - region.getBoundingClientRect().top;
  if (covered > 0) window.scrollBy(0, covered + 8);
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
/** "Nov 21, 2026, 3:04 PM" in the reader's own locale and zone. */
export const when = (iso) => (iso ? dateFormat.format(new Date(iso)) : '');

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });
/** "2 min. ago", "yesterday": how long ago, for scanning a list (`when` gives the exact time). */
export function ago(iso, now = Date.now()) {
  if (!iso) return '';
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const steps = [[60, 'second'], [3600, 'minute', 60], [86400, 'hour', 3600], [604800, 'day', 86400], [Infinity, 'week', 604800]];
  if (Math.abs(seconds) < 45) return t('app-shared-just-now');
  for (const [limit, unit, size = 1] of steps) {
    if (Math.abs(seconds) < limit) return relative.format(Math.round(seconds / size), unit);
  }
  return when(iso);
}

/** A <time> saying how long ago, with the exact date and time in its tooltip. */
export const timeAgo = (iso) => h('time', { datetime: iso, title: when(iso) }, ago(iso));

/** A phone as people read it: +1 555 010 0123 for North American numbers. */
export function phoneText(e164) {
  const match = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164 ?? '');
  return match ? `+1 ${match[1]} ${match[2]} ${match[3]}` : (e164 ?? '');
}

/**
 * A read-only text box with a Copy button; "Copied" is announced. Where the clipboard is not
 * available (plain http, old browsers) the text is selected so the reader can copy it by hand.
 */
export function copyField({ label, value, hint }) {
  const box = field({ label, name: uid('copy'), value, hint, attrs: { readonly: true, spellcheck: 'false', autocomplete: 'off' } });
  const said = h('span', { class: 'copy-status', role: 'status' });
  const copy = h('button', { type: 'button', onclick: async () => {
    box.control.focus();
    box.control.select();
    try {
      await navigator.clipboard.writeText(value);
      said.textContent = t('app-shared-copied');
    } catch {
      said.textContent = t('app-shared-copy-by-hand');
    }
    setTimeout(() => { said.textContent = ''; }, 4000);
  } }, t('app-shared-copy'));
  box.control.addEventListener('focus', () => box.control.select());
  box.append(h('div', { class: 'actions copy-actions' }, copy, said));
  return box;
}
