// WhatsApp: the number of the account registered as a WhatsApp sender through which members can
// be in the group on WhatsApp. The API says why a number cannot be used (not a sender, another
// neighborhood's, members still on the current one).

import { api } from '../../../api.js';
import { h, field, clearErrors, showErrors, busy, phoneText } from '../../../dom.js';
import { section } from './parts.js';
import { t, tParts } from '../../../i18n.js';

export function whatsappSection(ctx) {
  const current = ctx.neighborhood.whatsapp_sender ?? '';
  const status = h('p', {}, current
    ? tParts('app-whatsapp-on', { number: h('strong', {}, phoneText(current)) })
    : t('app-whatsapp-off'));
  const sender = field({ label: t('app-whatsapp-sender'), name: 'whatsapp_sender', type: 'tel', value: current,
    hint: t('app-whatsapp-sender-hint'),
    attrs: { inputmode: 'tel', autocomplete: 'off' } });
  const saved = h('p', { class: 'hint', role: 'status' });
  const submit = h('button', { class: 'primary', type: 'submit' }, t('app-whatsapp-save'));
  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    saved.textContent = '';
    const value = sender.control.value.trim();
    if (value === (ctx.neighborhood.whatsapp_sender ?? '')) {
      saved.textContent = t('app-settings-unchanged');
      return;
    }
    await busy(submit, async () => {
      try {
        await api(`neighborhoods/${ctx.id}`, { method: 'PATCH', body: { whatsapp_sender: value === '' ? null : value } });
        await ctx.reloadNeighborhood();
        saved.textContent = value === ''
          ? t('app-whatsapp-saved-off')
          : t('app-whatsapp-saved', { number: phoneText(ctx.neighborhood.whatsapp_sender ?? value) });
      } catch (error) {
        showErrors(form, error);
      }
    });
  } }, sender, h('div', { class: 'actions' }, submit, saved));
  return section('whatsapp', t('app-whatsapp-title'), status, form);
}
