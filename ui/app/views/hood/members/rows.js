// One compact table row per member, and the details row that opens under it with everything
// else about them and, for captains, the per-member actions (role, mute, pause, removal, sync
// retry). Rows are light on purpose: a thousand members load a page at a time.

import { api, errorText } from '../../../api.js';
import { h, field, when, phoneText, busy } from '../../../dom.js';
import { t } from '../../../i18n.js';

/** Each status: [message id, badge tone]. */
export const STATUS = {
  active: ['app-member-status-active', 'ok'],
  paused: ['app-member-status-paused', 'warn'],
  left: ['app-member-status-left', ''],
  removed: ['app-member-status-removed', ''],
  opted_out: ['app-member-status-opted-out', 'bad'],
};
/**
 * Where the member stands with the group text itself, in plain words: whether Twilio has them
 * on it (an active member) or off it (anyone else), on the way, or stuck.
 */
function syncWords(member) {
  const on = member.status === 'active';
  if (member.sync === 'done') return [t(on ? 'app-member-sync-on' : 'app-member-sync-off'), on ? 'ok' : ''];
  if (member.sync === 'pending') return [t(on ? 'app-member-sync-adding' : 'app-member-sync-removing'), 'warn'];
  if (member.sync === 'failed') return [t(on ? 'app-member-sync-add-failed' : 'app-member-sync-remove-failed'), 'bad'];
  return [member.sync, ''];
}
/** The roles a captain can give: [role, message id]. */
export const ROLES = [['member', 'app-role-member'], ['moderator', 'app-role-moderator'], ['captain', 'app-role-captain']];
const ROLE_NAMES = { ...Object.fromEntries(ROLES), owner: 'app-role-owner' };
const roleName = (role) => (ROLE_NAMES[role] ? t(ROLE_NAMES[role]) : role);

/** The delivery health in a few words, for the row. */
function healthText(delivery) {
  if (!delivery) return t('app-member-health-none');
  if (delivery.failures_in_a_row) return t('app-member-health-failing', { count: delivery.failures_in_a_row });
  return delivery.last_status ? t('app-member-health-last', { status: delivery.last_status }) : t('app-member-health-none');
}

/** The delivery health in full, for the details. */
function deliveryText(delivery) {
  if (!delivery) return t('app-member-delivery-none');
  const vars = { status: delivery.last_status, error: delivery.last_error_code, count: delivery.failures_in_a_row };
  if (delivery.failures_in_a_row) {
    return t(delivery.last_error_code ? 'app-member-delivery-error-failing' : 'app-member-delivery-failing', vars);
  }
  return t(delivery.last_error_code ? 'app-member-delivery-error' : 'app-member-delivery', vars);
}

function duplicateText(duplicate) {
  return t(duplicate.same === 'address' ? 'app-member-duplicate-address' : 'app-member-duplicate', { name: duplicate.display_name });
}

/**
 * The row for `member`. `selection` (captains only) is { has(id), toggle(id, on) }; `onToggle`
 * opens or closes the details.
 */
export function memberRow(member, { selection, onToggle }) {
  const [statusId, statusTone] = STATUS[member.status] ?? [null, ''];
  const statusText = statusId ? t(statusId) : member.status;
  const detailsId = `member-details-${member.id}`;
  const name = h('button', {
    type: 'button', class: 'member-name', 'aria-expanded': 'false', 'aria-controls': detailsId,
    'data-focus': 'toggle',
  }, member.display_name);
  name.addEventListener('click', () => onToggle(member.id));
  let pick = null;
  if (selection) {
    const box = h('input', {
      type: 'checkbox', 'aria-label': t('app-member-select', { name: member.display_name }), checked: selection.has(member.id),
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
    h('td', { class: 'wide' }, roleName(member.role)),
    h('td', { class: 'state' },
      h('span', { class: `badge ${statusTone}` }, statusText),
      member.channel === 'whatsapp' ? h('span', { class: 'badge' }, t('app-member-whatsapp')) : null,
      member.muted ? h('span', { class: 'badge warn' }, t('app-member-muted')) : null,
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
  const close = h('button', { type: 'button', class: 'link', 'data-focus': 'close' }, t('app-member-close', { name: member.display_name }));
  close.addEventListener('click', () => onClose(member.id));
  const panel = h('section', { class: 'member-panel', 'aria-labelledby': heading.id },
    h('div', { class: 'row' }, heading, close),
    h('dl', { class: 'facts' },
      member.possible_duplicate_of
        ? [h('dt', {}, t('app-member-check')), h('dd', {}, duplicateText(member.possible_duplicate_of))] : null,
      member.phone ? [h('dt', {}, t('app-member-phone')), h('dd', {}, phoneText(member.phone))] : null,
      h('dt', {}, t('app-member-channel')), h('dd', {}, t(member.channel === 'whatsapp' ? 'app-member-whatsapp' : 'app-member-sms')),
      member.address ? [h('dt', {}, t('app-member-address')), h('dd', {}, member.address)] : null,
      h('dt', {}, t('app-member-role')), h('dd', {}, roleName(member.role)),
      h('dt', {}, t('app-member-group-text')), h('dd', {}, h('span', { class: `badge ${syncTone}` }, syncText)),
      h('dt', {}, t('app-member-texts')), h('dd', {}, deliveryText(member.delivery)),
      member.sync_error ? [h('dt', {}, t('app-member-sync-error')), h('dd', {}, member.sync_error)] : null,
      member.status_reason ? [h('dt', {}, t('app-member-why')), h('dd', {}, member.status_reason)] : null,
      h('dt', {}, t('app-member-since')), h('dd', {}, when(member.joined_at))),
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
    const roleField = field({ label: t('app-member-role-of', { name: member.display_name }), name: 'role', type: 'select',
      value: member.role, options: ROLES.map(([value, id]) => [value, t(id)]) });
    const save = h('button', { type: 'button' }, t('app-member-change-role'));
    save.addEventListener('click', () => act(save, async () => {
      const updated = await patch({ role: roleField.control.value });
      return t('app-member-role-changed', { name: updated.display_name, role: updated.role });
    }));
    parts.push(h('div', { class: 'filters' }, roleField, save));
  }
  if (current) {
    const mute = h('button', { type: 'button' }, t(member.muted ? 'app-member-unmute' : 'app-member-mute'));
    mute.addEventListener('click', () => act(mute, async () => {
      const updated = await patch({ muted: !member.muted });
      return t(updated.muted ? 'app-member-muted-done' : 'app-member-unmuted-done', { name: updated.display_name });
    }));
    const pause = h('button', { type: 'button' }, t(member.status === 'paused' ? 'app-member-resume' : 'app-member-pause'));
    pause.addEventListener('click', () => act(pause, async () => {
      const updated = await patch({ status: member.status === 'paused' ? 'active' : 'paused' });
      return t(updated.status === 'paused' ? 'app-member-paused-done' : 'app-member-resumed-done', { name: updated.display_name });
    }));
    parts.push(h('div', { class: 'actions' }, mute, pause));
  }
  // Between SMS and WhatsApp where the neighborhood has a WhatsApp sender: their participant is
  // replaced at Twilio, and they are told on the new channel.
  if (current && ctx.neighborhood?.whatsapp_sender) {
    const to = member.channel === 'whatsapp' ? 'sms' : 'whatsapp';
    const move = h('button', { type: 'button' }, t(to === 'whatsapp' ? 'app-member-move-whatsapp' : 'app-member-move-sms'));
    move.addEventListener('click', () => act(move, async () => {
      const updated = await patch({ channel: to });
      return t(updated.channel === 'whatsapp' ? 'app-member-moved-whatsapp' : 'app-member-moved-sms', { name: updated.display_name });
    }));
    parts.push(h('div', { class: 'actions' }, move));
  }
  if (member.sync === 'failed') {
    const retry = h('button', { type: 'button', class: 'primary' }, t('app-member-retry'));
    retry.addEventListener('click', () => act(retry, async () => {
      await api(`neighborhoods/${ctx.id}/members/${member.id}/retry`, { method: 'POST' });
      return t('app-member-retrying', { name: member.display_name });
    }));
    parts.push(h('div', { class: 'actions' }, retry));
  }
  if (member.role !== 'owner' && current) {
    const notice = field({ label: t('app-member-notice', { name: member.display_name }), name: 'notice', type: 'textarea',
      hint: t('app-member-notice-hint') });
    const remove = h('button', { type: 'button', class: 'danger' }, t('app-member-remove', { name: member.display_name }));
    remove.addEventListener('click', () => act(remove, async () => {
      await api(`neighborhoods/${ctx.id}/members/${member.id}`, { method: 'DELETE', query: { notice: notice.control.value.trim() } });
      return t('app-member-removed', { name: member.display_name });
    }));
    parts.push(h('details', { class: 'danger-zone' }, h('summary', {}, t('app-member-remove-from-group')), notice, remove));
  }
  if (parts.length === 0) return null;
  return h('div', { class: 'member-actions' }, ...parts, outcome);
}

