// Ending a neighborhood (owner): archiving it, which cannot be undone, and once archived,
// deleting everything it holds.

import { api, ApiError } from '../../../api.js';
import { h, field, clearErrors, showErrors, busy, toast } from '../../../dom.js';
import { choices, same } from './parts.js';

// ---- archive ----

export function archiveSection(ctx) {
  const neighborhood = ctx.neighborhood;
  const release = choices({ legend: 'Its phone number', name: 'release_number', value: 'keep', options: [
    ['keep', 'Keep the number', 'It stays in the Twilio account (and keeps costing its monthly rent) and can be given to a new neighborhood.'],
    ['release', 'Release the number', 'It goes back to Twilio and stops costing money. It cannot be recovered.'],
  ] });
  const farewell = field({ label: 'Farewell text (optional)', name: 'farewell', type: 'textarea',
    hint: `Texted to the whole group before it closes, signed “${neighborhood.name}:”.`, attrs: { maxlength: 1600 } });
  const confirm = field({ label: `Type “${neighborhood.name}” to confirm`, name: 'confirm_name', attrs: { autocomplete: 'off', spellcheck: 'false' } });
  const submit = h('button', { class: 'danger primary', type: 'submit' }, 'Archive neighborhood');
  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!same(confirm.control.value, ctx.neighborhood.name)) {
      showErrors(form, new ApiError(400, 'validation_failed', 'Not archived yet:',
        [{ field: 'confirm_name', message: `Type “${ctx.neighborhood.name}” exactly as shown.` }]));
      return;
    }
    await busy(submit, async () => {
      try {
        await api(`neighborhoods/${ctx.id}/archive`, { method: 'POST', body: {
          release_number: release.value() === 'release',
          farewell: farewell.control.value.trim() || undefined,
        } });
      } catch (error) {
        // A 502 means Twilio failed midway; the same request finishes the job.
        showErrors(form, error);
        return;
      }
      toast(`${ctx.neighborhood.name} is archived.`);
      await ctx.refreshMe();
      ctx.navigate(`#/n/${ctx.id}/settings`);
    });
  } }, release, farewell, confirm, h('div', { class: 'actions' }, submit));
  return h('section', { class: 'card danger-zone', id: 'archive', 'aria-labelledby': 'archive-heading' },
    h('h3', { id: 'archive-heading' }, 'Archive the neighborhood'),
    h('p', {}, 'Archiving ends the group text for good: its conversations at Twilio are closed, members stop receiving the group\'s texts, and nothing here can change any more. ',
      h('strong', {}, 'It cannot be undone.')),
    form);
}

// ---- delete, once archived ----

export function deleteSection(ctx) {
  const neighborhood = ctx.neighborhood;
  const confirm = field({ label: `Type “${neighborhood.name}” to confirm`, name: 'confirm_name', attrs: { autocomplete: 'off', spellcheck: 'false' } });
  const submit = h('button', { class: 'danger primary', type: 'submit' }, 'Delete everything');
  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    await busy(submit, async () => {
      try {
        // The API checks the typed name too, and answers with its own message when it differs.
        await api(`neighborhoods/${ctx.id}`, { method: 'DELETE', body: { confirm_name: confirm.control.value.trim() } });
      } catch (error) {
        showErrors(form, error);
        return;
      }
      toast(`${neighborhood.name} is deleted.`);
      await ctx.refreshMe();
      ctx.navigate('#/');
    });
  } }, confirm, h('div', { class: 'actions' }, submit));
  return h('section', { class: 'card danger-zone', id: 'delete', 'aria-labelledby': 'delete-heading' },
    h('h3', { id: 'delete-heading' }, 'Delete the neighborhood'),
    h('p', {}, 'Deleting removes its members, join requests, message history and audit log from this service, deletes its conversations at Twilio and releases its number unless another neighborhood uses it. ',
      h('strong', {}, 'Nothing can be recovered.')),
    form);
}
