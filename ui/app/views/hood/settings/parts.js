// What the settings sections share: the card each one is, radio choices with explanations,
// the names of roles, and how a typed confirmation is compared.

import { h } from '../../../dom.js';

export { choices } from '../../../dom.js';

export const RANK = { member: 0, moderator: 1, captain: 2, owner: 3 };
export const ROLE_NAMES = { member: 'Member', moderator: 'Moderator', captain: 'Captain', owner: 'Owner' };

/** Whether a typed confirmation matches, ignoring case and surrounding spaces. */
export const same = (a, b) => a.trim().toLowerCase() === b.trim().toLowerCase();

export function section(id, title, ...children) {
  return h('section', { class: 'card', id, 'aria-labelledby': `${id}-heading` },
    h('h3', { id: `${id}-heading`, tabindex: '-1' }, title), ...children);
}
