// WhatsApp: the number of the account registered as a WhatsApp sender through which members can
// be in the group on WhatsApp. The API says why a number cannot be used (not a sender, another
// neighborhood's, members still on the current one).

import { api } from '../../../api.js';
import { h, field, clearErrors, showErrors, busy, phoneText } from '../../../dom.js';
import { section } from './parts.js';

export function whatsappSection(ctx) {
  const current = ctx.neighborhood.whatsapp_sender ?? '';
  const status = h('p', {}, current
    ? ['Neighbors can be in the group on WhatsApp through ', h('strong', {}, phoneText(current)),
      '. The join page offers it, and you can move a member between SMS and WhatsApp in Members.']
    : 'Members get the group by SMS only. Set a WhatsApp sender to let neighbors choose WhatsApp.');
  const sender = field({ label: 'WhatsApp sender number', name: 'whatsapp_sender', type: 'tel', value: current,
    hint: 'A number of your Twilio account registered with WhatsApp and added to the Messaging Service, in international format (+1…). Often the neighborhood’s own number. Leave empty to turn WhatsApp off.',
    attrs: { inputmode: 'tel', autocomplete: 'off' } });
  const saved = h('p', { class: 'hint', role: 'status' });
  const submit = h('button', { class: 'primary', type: 'submit' }, 'Save WhatsApp sender');
  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    saved.textContent = '';
    const value = sender.control.value.trim();
    if (value === (ctx.neighborhood.whatsapp_sender ?? '')) {
      saved.textContent = 'Nothing has changed.';
      return;
    }
    await busy(submit, async () => {
      try {
        await api(`neighborhoods/${ctx.id}`, { method: 'PATCH', body: { whatsapp_sender: value === '' ? null : value } });
        await ctx.reloadNeighborhood();
        saved.textContent = value === '' ? 'WhatsApp is off.' : `Saved: members can be on WhatsApp through ${phoneText(ctx.neighborhood.whatsapp_sender ?? value)}.`;
      } catch (error) {
        showErrors(form, error);
      }
    });
  } }, sender, h('div', { class: 'actions' }, submit, saved));
  return section('whatsapp', 'WhatsApp', status, form);
}
