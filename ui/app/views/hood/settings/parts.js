// What the settings sections share: the card each one is, radio choices with explanations,
// the names of roles, and how a typed confirmation is compared.

import { h } from '../../../dom.js';

export const RANK = { member: 0, moderator: 1, captain: 2, owner: 3 };
export const ROLE_NAMES = { member: 'Member', moderator: 'Moderator', captain: 'Captain', owner: 'Owner' };

/** Whether a typed confirmation matches, ignoring case and surrounding spaces. */
export const same = (a, b) => a.trim().toLowerCase() === b.trim().toLowerCase();

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

export function section(id, title, ...children) {
  return h('section', { class: 'card', id, 'aria-labelledby': `${id}-heading` },
    h('h3', { id: `${id}-heading`, tabindex: '-1' }, title), ...children);
}
