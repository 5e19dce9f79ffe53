// Create a neighborhood: it gets a number in the chosen area code and the creator as owner.

import { api } from '../api.js';
import { h, field, showErrors, clearErrors, busy } from '../dom.js';

export default function create(container, ctx) {
  ctx.title('Create a neighborhood');
  const name = field({ label: 'Name', name: 'name', required: true, hint: 'Neighbors see it in texts, e.g. "Elm Street".' });
  const description = field({ label: 'Description', name: 'description', type: 'textarea', hint: 'Shown on the join page. Optional.' });
  const areaCode = field({
    label: 'Area code for its number', name: 'area_code', required: true,
    hint: 'Three digits, e.g. 415. A number is bought there (emulated in the sandbox).',
    attrs: { inputmode: 'numeric', maxlength: 3, autocomplete: 'off' },
  });
  const ownerName = field({
    label: 'Your name on texts', name: 'owner_name', required: true,
    hint: 'Neighbors see it in front of what you send, e.g. "Ana: ...".',
    attrs: { autocomplete: 'given-name' },
  });
  const submit = h('button', { class: 'primary', type: 'submit' }, 'Create neighborhood');
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
  } }, name, description, areaCode, ownerName, h('div', { class: 'actions' }, submit, h('a', { class: 'button', href: '#/' }, 'Cancel')));
  container.append(h('div', { class: 'narrow' }, h('h1', {}, 'Create a neighborhood'), h('div', { class: 'card' }, form)));
  name.control.focus();
}
