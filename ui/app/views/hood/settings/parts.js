// What the settings sections share: the card each one is, radio choices with explanations,
// the names of roles, and how a typed confirmation is compared.

import { h } from '../../../dom.js';
import { t } from '../../../i18n.js';

export { choices } from '../../../dom.js';

export const RANK = { member: 0, moderator: 1, captain: 2, owner: 3 };
const ROLE_NAMES = { member: 'app-role-member', moderator: 'app-role-moderator', captain: 'app-role-captain', owner: 'app-role-owner' };

/** A role's name ("Captain"); undefined for an unknown role. */
export const roleName = (role) => (ROLE_NAMES[role] ? t(ROLE_NAMES[role]) : undefined);

/** Whether a typed confirmation matches, ignoring case and surrounding spaces. */
export const same = (a, b) => a.trim().toLowerCase() === b.trim().toLowerCase();

export function section(id, title, ...children) {
  return h('section', { class: 'card', id, 'aria-labelledby': `${id}-heading` },
    h('h3', { id: `${id}-heading`, tabindex: '-1' }, title), ...children);
}
