// Create a neighborhood: it gets a number in the chosen area code and the creator as owner.

import { api } from '../api.js';
import { h, field, showErrors, clearErrors, busy } from '../dom.js';
import { t } from '../i18n.js';

export default function create(container, ctx) {
  ctx.title(t('app-create-title'));
  const name = field({ label: t('app-create-name'), name: 'name', required: true, hint: t('app-create-name-hint') });
  const description = field({ label: t('app-create-description'), name: 'description', type: 'textarea', hint: t('app-create-description-hint') });
  const areaCode = field({
    label: t('app-create-area-code'), name: 'area_code', required: true,
    hint: t('app-create-area-code-hint'),
    attrs: { inputmode: 'numeric', maxlength: 3, autocomplete: 'off' },
  });
  const ownerName = field({
    label: t('app-create-owner-name'), name: 'owner_name', required: true,
    hint: t('app-create-owner-name-hint'),
    attrs: { autocomplete: 'given-name' },
  });
  const submit = h('button', { class: 'primary', type: 'submit' }, t('app-create-submit'));
  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    await busy(submit, async () => {
      try {
        const neighborhood = await api('neighborhoods', {
          method: 'POST',
          body: {
            name: name.control.value.trim(),
            description: description.control.value.trim() || undefined,
            area_code: areaCode.control.value.trim(),
            owner_name: ownerName.control.value.trim(),
          },
        });
        await ctx.refreshMe();
        ctx.navigate(`#/n/${neighborhood.id}/invite`);
      } catch (error) {
        showErrors(form, error);
      }
    });
  } }, name, description, areaCode, ownerName, h('div', { class: 'actions' }, submit, h('a', { class: 'button', href: '#/' }, t('app-create-cancel'))));
  container.append(h('div', { class: 'narrow' }, h('h1', {}, t('app-create-title')), h('div', { class: 'card' }, form)));
  name.control.focus();
}
