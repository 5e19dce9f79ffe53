// Ending a neighborhood (owner): archiving it, which cannot be undone, and once archived,
// deleting everything it holds.

import { api, ApiError } from '../../../api.js';
import { h, field, clearErrors, showErrors, busy, toast } from '../../../dom.js';
import { choices, same } from './parts.js';
import { t, tParts } from '../../../i18n.js';

// ---- archive ----

export function archiveSection(ctx) {
  const neighborhood = ctx.neighborhood;
  const release = choices({ legend: t('app-archive-number'), name: 'release_number', value: 'keep', options: [
    ['keep', t('app-archive-keep'), t('app-archive-keep-hint')],
    ['release', t('app-archive-release'), t('app-archive-release-hint')],
  ] });
  const farewell = field({ label: t('app-archive-farewell'), name: 'farewell', type: 'textarea',
    hint: t('app-archive-farewell-hint', { neighborhood: neighborhood.name }), attrs: { maxlength: 1600 } });
  const confirm = field({ label: t('app-closing-type-name', { name: neighborhood.name }), name: 'confirm_name',
    attrs: { autocomplete: 'off', spellcheck: 'false' } });
  const submit = h('button', { class: 'danger primary', type: 'submit' }, t('app-archive-submit'));
  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!same(confirm.control.value, ctx.neighborhood.name)) {
      showErrors(form, new ApiError(400, 'validation_failed', t('app-archive-not-yet'),
        [{ field: 'confirm_name', message: t('app-closing-type-exactly', { name: ctx.neighborhood.name }) }]));
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
      toast(t('app-archive-done', { neighborhood: ctx.neighborhood.name }));
      await ctx.refreshMe();
      ctx.navigate(`#/n/${ctx.id}/settings`);
    });
  } }, release, farewell, confirm, h('div', { class: 'actions' }, submit));
  return h('section', { class: 'card danger-zone', id: 'archive', 'aria-labelledby': 'archive-heading' },
    h('h3', { id: 'archive-heading' }, t('app-archive-title')),
    h('p', {}, ...tParts('app-archive-text', { warning: h('strong', {}, t('app-archive-warning')) })),
    form);
}

// ---- delete, once archived ----

export function deleteSection(ctx) {
  const neighborhood = ctx.neighborhood;
  const confirm = field({ label: t('app-closing-type-name', { name: neighborhood.name }), name: 'confirm_name',
    attrs: { autocomplete: 'off', spellcheck: 'false' } });
  const submit = h('button', { class: 'danger primary', type: 'submit' }, t('app-delete-submit'));
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
      toast(t('app-delete-done', { neighborhood: neighborhood.name }));
      await ctx.refreshMe();
      ctx.navigate('#/');
    });
  } }, confirm, h('div', { class: 'actions' }, submit));
  return h('section', { class: 'card danger-zone', id: 'delete', 'aria-labelledby': 'delete-heading' },
    h('h3', { id: 'delete-heading' }, t('app-delete-title')),
    h('p', {}, ...tParts('app-delete-text', { warning: h('strong', {}, t('app-delete-warning')) })),
    form);
}
