// Sign in with a phone and the 6-digit code texted to it.

import { api } from '../api.js';
import { h, field, showErrors, clearErrors, busy, phoneText } from '../dom.js';

export default function signIn(container, ctx) {
  ctx.title('Sign in');
  if (ctx.session.me) {
    ctx.navigate('#/');
    return;
  }
  const { sandbox, sandbox_admin_phone: sandboxPhone } = ctx.session.health;
  const phone = field({
    label: 'Your phone', name: 'phone', type: 'tel', required: true, value: sandboxPhone ?? '',
    hint: 'The phone of a captain or admin, in international format, e.g. +1 555 010 0123.',
    attrs: { autocomplete: 'tel', inputmode: 'tel' },
  });
  const code = field({
    label: 'Code from the text', name: 'code', required: true,
    hint: 'Six digits. The code works for 10 minutes.',
    attrs: { autocomplete: 'one-time-code', inputmode: 'numeric', pattern: '[0-9]*', maxlength: 6 },
  });
  const sendButton = h('button', { class: 'primary', type: 'submit' }, 'Text me a code');
  const signInButton = h('button', { class: 'primary', type: 'submit' }, 'Sign in');
  const where = h('p', { class: 'hint', role: 'status' });
  // A code that never came (or expired) is asked for again here, without retyping the phone.
  const resendButton = h('button', { type: 'button', onclick: () => busy(resendButton, async () => {
    clearErrors(codeForm);
    try {
      await api('auth/code', { method: 'POST', body: { phone: phone.control.value } });
    } catch (error) {
      showErrors(codeForm, error);
      return;
    }
    where.textContent = `A new code is on its way to ${phoneText(phone.control.value.trim())}; the one before no longer works.`;
    code.control.value = '';
    code.control.focus();
  }) }, 'Text me a new code');

  const phoneForm = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(phoneForm);
    await busy(sendButton, async () => {
      try {
        await api('auth/code', { method: 'POST', body: { phone: phone.control.value } });
      } catch (error) {
        showErrors(phoneForm, error);
        return;
      }
      where.replaceChildren(sandbox
        ? h('span', {}, 'Sandbox: the code arrives on the simulated phone ', h('strong', {}, phoneText(phone.control.value.trim())),
          ' at ', h('a', { href: '/sandbox', target: '_blank', rel: 'noopener' }, 'the simulated phones page'), '.')
        : `If this phone belongs to a captain or admin, a code is on its way to ${phone.control.value.trim()}.`);
      phoneForm.hidden = true;
      codeForm.hidden = false;
      code.control.focus();
    });
  } }, phone, h('div', { class: 'actions' }, sendButton));

  const codeForm = h('form', { novalidate: true, hidden: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(codeForm);
    await busy(signInButton, async () => {
      try {
        await api('auth/session', {
          method: 'POST', body: { phone: phone.control.value, code: code.control.value.trim() }, signedOutIsError: true,
        });
      } catch (error) {
        showErrors(codeForm, error);
        return;
      }
      await ctx.refreshMe();
      ctx.navigate('#/');
    });
  } }, where, code, h('div', { class: 'actions' }, signInButton, resendButton,
    h('button', { type: 'button', onclick: () => {
      codeForm.hidden = true;
      phoneForm.hidden = false;
      phone.control.focus();
    } }, 'Use another phone')));

  container.append(h('div', { class: 'narrow' },
    h('h1', {}, 'Sign in'),
    h('p', {}, 'Captains run their neighborhood here. We text a code to your phone; no password.'),
    sandbox && sandboxPhone
      ? h('p', { class: 'hint' }, `Sandbox: ${phoneText(sandboxPhone)} is a platform admin, ready to try.`)
      : null,
    h('div', { class: 'card' }, phoneForm, codeForm)));
  phone.control.focus();
}
