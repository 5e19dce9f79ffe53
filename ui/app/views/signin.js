// Sign in with a phone and the 6-digit code texted to it.

import { api } from '../api.js';
import { h, field, showErrors, clearErrors, busy, phoneText } from '../dom.js';
import { t, tParts } from '../i18n.js';

export default function signIn(container, ctx) {
  ctx.title(t('app-signin-title'));
  if (ctx.session.me) {
    ctx.navigate('#/');
    return;
  }
  const { sandbox, sandbox_admin_phone: sandboxPhone } = ctx.session.health;
  const phone = field({
    label: t('app-signin-phone'), name: 'phone', type: 'tel', required: true, value: sandboxPhone ?? '',
    hint: t('app-signin-phone-hint'),
    attrs: { autocomplete: 'tel', inputmode: 'tel' },
  });
  const code = field({
    label: t('app-signin-code'), name: 'code', required: true,
    hint: t('app-signin-code-hint'),
    attrs: { autocomplete: 'one-time-code', inputmode: 'numeric', pattern: '[0-9]*', maxlength: 6 },
  });
  const sendButton = h('button', { class: 'primary', type: 'submit' }, t('app-signin-send'));
  const signInButton = h('button', { class: 'primary', type: 'submit' }, t('app-signin-submit'));
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
    where.textContent = t('app-signin-resent', { phone: phoneText(phone.control.value.trim()) });
    code.control.value = '';
    code.control.focus();
  }) }, t('app-signin-resend'));

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
        ? h('span', {}, ...tParts('app-signin-sandbox-sent', {
          phone: h('strong', {}, phoneText(phone.control.value.trim())),
          page: h('a', { href: '/sandbox', target: '_blank', rel: 'noopener' }, t('app-signin-sandbox-page')),
        }))
        : t('app-signin-sent', { phone: phone.control.value.trim() }));
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
    } }, t('app-signin-other-phone'))));

  container.append(h('div', { class: 'narrow' },
    h('h1', {}, t('app-signin-title')),
    h('p', {}, t('app-signin-intro')),
    sandbox && sandboxPhone
      ? h('p', { class: 'hint' }, t('app-signin-sandbox-admin', { phone: phoneText(sandboxPhone) }))
      : null,
    h('div', { class: 'card' }, phoneForm, codeForm)));
  phone.control.focus();
}
