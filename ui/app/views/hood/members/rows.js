// One compact table row per member, and the details row that opens under it with everything
// else about them and, for captains, the per-member actions (role, mute, pause, removal, sync
// retry). Rows are light on purpose: a thousand members load a page at a time.

import { api, errorText } from '../../../api.js';
import { h, field, when, phoneText, busy } from '../../../dom.js';

export const STATUS = {
  active: ['In the group', 'ok'],
  paused: ['Paused', 'warn'],
  left: ['Left', ''],
  removed: ['Removed', ''],
  opted_out: ['Texted STOP', 'bad'],
};
/**
 * Where the member stands with the group text itself, in plain words: whether Twilio has them
 * on it (an active member) or off it (anyone else), on the way, or stuck.
 */
function syncWords(member) {
  const on = member.status === 'active';
  if (member.sync === 'done') return [on ? 'Gets the group text' : 'Off the group text', on ? 'ok' : ''];
  if (member.sync === 'pending') return [on ? 'Being added to the group text…' : 'Being taken off the group text…', 'warn'];
  if (member.sync === 'failed') return [on ? 'Could not be added to the group text' : 'Could not be taken off the group text', 'bad'];
  return [member.sync, ''];
}
export const ROLES = [['member', 'Member'], ['moderator', 'Moderator'], ['captain', 'Captain']];
const ROLE_NAMES = { ...Object.fromEntries(ROLES), owner: 'Owner' };

/** The delivery health in a few words, for the row. */
function healthText(delivery) {
  if (!delivery) return 'No texts yet';
  if (delivery.failures_in_a_row) return `${delivery.failures_in_a_row} failed in a row`;
  return delivery.last_status ? `Last text ${delivery.last_status}` : 'No texts yet';
}

/** The delivery health in full, for the details. */
function deliveryText(delivery) {
  if (!delivery) return 'No texts reported yet';
  const last = delivery.last_error_code
    ? `Last text ${delivery.last_status} (error ${delivery.last_error_code})`
    : `Last text ${delivery.last_status}`;
  return delivery.failures_in_a_row
    ? `${last}; ${delivery.failures_in_a_row} failed in a row`
    : last;
}

function duplicateText(duplicate) {
  return `Possible duplicate of ${duplicate.display_name}${duplicate.same === 'address' ? ' (same address)' : ''}`;
}

/**
 * The row for `member`. `selection` (captains only) is { has(id), toggle(id, on) }; `onToggle`
 * opens or closes the details.
 */
export function memberRow(member, { selection, onToggle }) {
  const [statusText, statusTone] = STATUS[member.status] ?? [member.status, ''];
  const detailsId = `member-details-${member.id}`;
  const name = h('button', {
    type: 'button', class: 'member-name', 'aria-expanded': 'false', 'aria-controls': detailsId,
    'data-focus': 'toggle',
  }, member.display_name);
  name.addEventListener('click', () => onToggle(member.id));
  let pick = null;
  if (selection) {
    const box = h('input', {
      type: 'checkbox', 'aria-label': `Select ${member.display_name}`, checked: selection.has(member.id),
      'data-focus': 'pick',
    });
    box.addEventListener('change', () => selection.toggle(member.id, box.checked));
    pick = h('td', { class: 'pick' }, h('label', { class: 'pick-target' }, box));
  }
  const sync = member.sync !== 'done' ? syncWords(member) : null;
  return h('tr', { 'data-member': member.id },
    pick,
    h('th', { scope: 'row', class: 'who' },
      name,
      member.possible_duplicate_of
        ? h('span', { class: 'badge warn duplicate' }, duplicateText(member.possible_duplicate_of))
        : null),
    h('td', { class: 'wide' }, member.address ?? ''),
    h('td', { class: 'wide' }, ROLE_NAMES[member.role] ?? member.role),
    h('td', { class: 'state' },
      h('span', { class: `badge ${statusTone}` }, statusText),
      member.channel === 'whatsapp' ? h('span', { class: 'badge' }, 'WhatsApp') : null,
      member.muted ? h('span', { class: 'badge warn' }, 'Muted') : null,
      sync ? h('span', { class: `badge ${sync[1]}` }, sync[0]) : null),
    h('td', { class: 'wide' }, healthText(member.delivery)));
}

/**
 * The details row for `member`, spanning `columns`. With `manage` (captains), the actions;
 * each calls `changed(message)` after it worked so the list reloads. `onClose` closes it.
 */
export function detailsRow(member, { columns, ctx, manage, changed, onClose }) {
  const [syncText, syncTone] = syncWords(member);
  const heading = h('h3', { id: `member-heading-${member.id}`, tabindex: '-1', 'data-focus': 'heading' }, member.display_name);
  const close = h('button', { type: 'button', class: 'link', 'data-focus': 'close' }, `Close ${member.display_name}`);
  close.addEventListener('click', () => onClose(member.id));
  const panel = h('section', { class: 'member-panel', 'aria-labelledby': heading.id },
    h('div', { class: 'row' }, heading, close),
    h('dl', { class: 'facts' },
      member.possible_duplicate_of ? [h('dt', {}, 'Check'), h('dd', {}, duplicateText(member.possible_duplicate_of))] : null,
      member.phone ? [h('dt', {}, 'Phone'), h('dd', {}, phoneText(member.phone))] : null,
      h('dt', {}, 'Texts by'), h('dd', {}, member.channel === 'whatsapp' ? 'WhatsApp' : 'SMS'),
      member.address ? [h('dt', {}, 'Address'), h('dd', {}, member.address)] : null,
      h('dt', {}, 'Role'), h('dd', {}, ROLE_NAMES[member.role] ?? member.role),
      h('dt', {}, 'Group text'), h('dd', {}, h('span', { class: `badge ${syncTone}` }, syncText)),
      h('dt', {}, 'Texts'), h('dd', {}, deliveryText(member.delivery)),
      member.sync_error ? [h('dt', {}, 'What went wrong'), h('dd', {}, member.sync_error)] : null,
      member.status_reason ? [h('dt', {}, 'Why'), h('dd', {}, member.status_reason)] : null,
      h('dt', {}, 'Since'), h('dd', {}, when(member.joined_at))),
    manage ? actions(member, ctx, changed) : null);
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.stopPropagation();
      onClose(member.id);
    }
  });
  return h('tr', { class: 'member-details', id: `member-details-${member.id}`, 'data-details': member.id },
    h('td', { colspan: String(columns) }, panel));
}

function actions(member, ctx, changed) {
  const outcome = h('div', { role: 'status' });
  const act = (button, work) => busy(button, async () => {
    outcome.replaceChildren();
    try {
      changed(await work());
    } catch (error) {
      outcome.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorText(error)));
    }
  });
  const patch = (body) => api(`neighborhoods/${ctx.id}/members/${member.id}`, { method: 'PATCH', body });
  const current = ['active', 'paused'].includes(member.status);
  const parts = [];
  if (member.role !== 'owner' && current) {
    const roleField = field({ label: `Role of ${member.display_name}`, name: 'role', type: 'select', value: member.role, options: ROLES });
    const save = h('button', { type: 'button' }, 'Change role');
    save.addEventListener('click', () => act(save, async () => {
      const updated = await patch({ role: roleField.control.value });
      return `${updated.display_name} is now ${updated.role}.`;
    }));
    parts.push(h('div', { class: 'filters' }, roleField, save));
  }
  if (current) {
    const mute = h('button', { type: 'button' }, member.muted ? 'Unmute' : 'Mute');
    mute.addEventListener('click', () => act(mute, async () => {
      const updated = await patch({ muted: !member.muted });
      return updated.muted ? `${updated.display_name} is muted: their texts are held back.` : `${updated.display_name} can post again.`;
    }));
    const pause = h('button', { type: 'button' }, member.status === 'paused' ? 'Resume texts' : 'Pause texts');
    pause.addEventListener('click', () => act(pause, async () => {
      const updated = await patch({ status: member.status === 'paused' ? 'active' : 'paused' });
      return updated.status === 'paused' ? `${updated.display_name} is paused.` : `${updated.display_name} is back in the group.`;
    }));
    parts.push(h('div', { class: 'actions' }, mute, pause));
  }
  // Between SMS and WhatsApp where the neighborhood has a WhatsApp sender: their participant is
  // replaced at Twilio, and they are told on the new channel.
  if (current && ctx.neighborhood?.whatsapp_sender) {
    const to = member.channel === 'whatsapp' ? 'sms' : 'whatsapp';
    const label = to === 'whatsapp' ? 'Move to WhatsApp' : 'Move to SMS';
    const move = h('button', { type: 'button' }, label);
    move.addEventListener('click', () => act(move, async () => {
      const updated = await patch({ channel: to });
      return `${updated.display_name} now gets the group ${updated.channel === 'whatsapp' ? 'on WhatsApp' : 'by SMS'}.`;
    }));
    parts.push(h('div', { class: 'actions' }, move));
  }
  if (member.sync === 'failed') {
    const retry = h('button', { type: 'button', class: 'primary' }, 'Try again');
    retry.addEventListener('click', () => act(retry, async () => {
      await api(`neighborhoods/${ctx.id}/members/${member.id}/retry`, { method: 'POST' });
      return `Trying ${member.display_name} again.`;
    }));
    parts.push(h('div', { class: 'actions' }, retry));
  }
  if (member.role !== 'owner' && current) {
    const notice = field({ label: `Text to ${member.display_name} (optional)`, name: 'notice', type: 'textarea', hint: 'Sent to them alone when they are removed.' });
    const remove = h('button', { type: 'button', class: 'danger' }, `Remove ${member.display_name}`);
    remove.addEventListener('click', () => act(remove, async () => {
      await api(`neighborhoods/${ctx.id}/members/${member.id}`, { method: 'DELETE', query: { notice: notice.control.value.trim() } });
      return `${member.display_name} is removed from the group.`;
    }));
    parts.push(h('details', { class: 'danger-zone' }, h('summary', {}, 'Remove from the group'), notice, remove));
  }
  if (parts.length === 0) return null;
  return h('div', { class: 'member-actions' }, ...parts, outcome);
}

