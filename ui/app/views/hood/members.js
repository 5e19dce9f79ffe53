// Members: search and filters, and per member their role, mute, removal, delivery health and
// whether Twilio has caught up with them (with a retry when it gave up).

import { api, errorText } from '../../api.js';
import { h, field, when, phoneText, toast, busy } from '../../dom.js';
import { coalesce } from '../../live.js';

const STATUS = {
  active: ['In the group', 'ok'],
  paused: ['Paused', 'warn'],
  left: ['Left', ''],
  removed: ['Removed', ''],
  opted_out: ['Texted STOP', 'bad'],
};
const SYNC = {
  done: ['Synced', 'ok'],
  pending: ['Syncing with Twilio…', 'warn'],
  failed: ['Sync failed', 'bad'],
};
const ROLES = [['member', 'Member'], ['moderator', 'Moderator'], ['captain', 'Captain']];

function deliveryText(delivery) {
  if (!delivery) return 'No texts reported yet';
  const last = delivery.last_error_code
    ? `Last text ${delivery.last_status} (error ${delivery.last_error_code})`
    : `Last text ${delivery.last_status}`;
  return delivery.failures_in_a_row
    ? `${last}; ${delivery.failures_in_a_row} failed in a row`
    : last;
}

export default async function members(container, ctx) {
  const canManage = ctx.atLeast('captain');
  const search = field({ label: 'Search', name: 'q', type: 'search', attrs: { autocomplete: 'off', placeholder: 'Name or phone digits' } });
  const status = field({ label: 'Status', name: 'status', type: 'select', value: '', options: [['', 'Any status'], ...Object.entries(STATUS).map(([value, [text]]) => [value, text])] });
  const role = field({ label: 'Role', name: 'role', type: 'select', value: '', options: [['', 'Any role'], ...ROLES, ['owner', 'Owner']] });
  const count = h('p', { class: 'muted', role: 'status' });
  const list = h('ul', { class: 'list' });
  const more = h('button', { type: 'button', hidden: true }, 'Show more');
  container.append(h('h2', { id: 'tab-heading' }, 'Members'), h('div', { class: 'filters', role: 'search' }, search, status, role), count, list, more);

  let shown = 0;
  let nextAfter = null;

  function change(member, patch, done) {
    return api(`neighborhoods/${ctx.id}/members/${member.id}`, { method: 'PATCH', body: patch }).then((updated) => {
      toast(done(updated));
      return refresh();
    });
  }

  function manage(member) {
    const outcome = h('div', { role: 'status' });
    const fail = (error) => outcome.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorText(error)));
    const act = (button, work) => busy(button, async () => {
      outcome.replaceChildren();
      try {
        await work();
      } catch (error) {
        fail(error);
      }
    });
    const parts = [];
    if (member.role !== 'owner' && ['active', 'paused'].includes(member.status)) {
      const roleField = field({ label: 'Role', name: 'role', type: 'select', value: member.role, options: ROLES });
      const save = h('button', { type: 'button' }, 'Change role');
      save.addEventListener('click', () => act(save, () => change(member, { role: roleField.control.value },
        (updated) => `${updated.display_name} is now ${updated.role}.`)));
      parts.push(h('div', { class: 'filters' }, roleField, save));
    }
    if (member.status === 'active' || member.status === 'paused') {
      const mute = h('button', { type: 'button' }, member.muted ? 'Unmute' : 'Mute');
      mute.addEventListener('click', () => act(mute, () => change(member, { muted: !member.muted },
        (updated) => (updated.muted ? `${updated.display_name} is muted: their texts are held back.` : `${updated.display_name} can post again.`))));
      const pause = h('button', { type: 'button' }, member.status === 'paused' ? 'Resume texts' : 'Pause texts');
      pause.addEventListener('click', () => act(pause, () => change(member, { status: member.status === 'paused' ? 'active' : 'paused' },
        (updated) => (updated.status === 'paused' ? `${updated.display_name} is paused.` : `${updated.display_name} is back in the group.`))));
      parts.push(h('div', { class: 'actions' }, mute, pause));
    }
    if (member.sync === 'failed') {
      const retry = h('button', { type: 'button', class: 'primary' }, 'Retry sync');
      retry.addEventListener('click', () => act(retry, async () => {
        await api(`neighborhoods/${ctx.id}/members/${member.id}/retry`, { method: 'POST' });
        toast(`Trying ${member.display_name} again.`);
        await refresh();
      }));
      parts.push(h('div', { class: 'actions' }, retry));
    }
    if (member.role !== 'owner' && ['active', 'paused'].includes(member.status)) {
      const notice = field({ label: `Text to ${member.display_name} (optional)`, name: 'notice', type: 'textarea', hint: 'Sent to them alone when they are removed.' });
      const remove = h('button', { type: 'button', class: 'danger' }, `Remove ${member.display_name}`);
      remove.addEventListener('click', () => act(remove, async () => {
        await api(`neighborhoods/${ctx.id}/members/${member.id}`, { method: 'DELETE', query: { notice: notice.control.value.trim() } });
        toast(`${member.display_name} is removed from the group.`);
        await refresh();
      }));
      parts.push(h('details', { class: 'danger-zone' }, h('summary', {}, 'Remove from the group'), notice, remove));
    }
    if (parts.length === 0) return null;
    return h('details', {}, h('summary', {}, `Manage ${member.display_name}`), ...parts, outcome);
  }

  function item(member) {
    const [statusText, statusTone] = STATUS[member.status] ?? [member.status, ''];
    const [syncText, syncTone] = SYNC[member.sync] ?? [member.sync, ''];
    return h('li', { 'data-member': member.id },
      h('div', { class: 'row' },
        h('h3', {}, member.display_name),
        h('span', { class: 'actions' },
          member.role !== 'member' ? h('span', { class: 'badge' }, member.role) : null,
          h('span', { class: `badge ${statusTone}` }, statusText),
          member.muted ? h('span', { class: 'badge warn' }, 'Muted') : null,
          h('span', { class: `badge ${syncTone}` }, syncText))),
      h('dl', { class: 'facts' },
        member.phone ? [h('dt', {}, 'Phone'), h('dd', {}, phoneText(member.phone))] : null,
        member.address ? [h('dt', {}, 'Address'), h('dd', {}, member.address)] : null,
        h('dt', {}, 'Texts'), h('dd', {}, deliveryText(member.delivery)),
        member.shard ? [h('dt', {}, 'Group'), h('dd', {}, `${member.shard}`)] : null,
        member.sync_error ? [h('dt', {}, 'Sync error'), h('dd', {}, member.sync_error)] : null,
        member.status_reason ? [h('dt', {}, 'Why'), h('dd', {}, member.status_reason)] : null,
        h('dt', {}, 'Since'), h('dd', {}, when(member.joined_at))),
      canManage ? manage(member) : null);
  }

  const query = () => ({
    q: search.control.value.trim(),
    status: status.control.value,
    role: role.control.value,
  });

  // Live updates reload what is on screen (at least one page); open panels stay open.
  const refresh = coalesce(async () => {
    try {
      const page = await api(`neighborhoods/${ctx.id}/members`, { query: { ...query(), limit: Math.min(Math.max(shown, 100), 500) } });
      const open = new Set([...list.querySelectorAll('li[data-member] > details[open]')].map((node) => node.parentElement.dataset.member));
      list.replaceChildren(...page.items.map(item));
      for (const node of list.querySelectorAll('li[data-member] > details')) node.open = open.has(node.parentElement.dataset.member);
      shown = page.items.length;
      nextAfter = page.next_after ?? null;
      more.hidden = !nextAfter;
      count.textContent = page.total === 1 ? '1 member' : `${page.total} members`;
    } catch (error) {
      count.replaceChildren(h('span', { class: 'alert', role: 'alert' }, errorText(error)));
    }
  });
  more.addEventListener('click', () => busy(more, async () => {
    try {
      const page = await api(`neighborhoods/${ctx.id}/members`, { query: { ...query(), after: nextAfter, limit: 100 } });
      list.append(...page.items.map(item));
      shown += page.items.length;
      nextAfter = page.next_after ?? null;
      more.hidden = !nextAfter;
    } catch (error) {
      toast(errorText(error), { error: true });
    }
  }));
  let typing = null;
  search.control.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => { shown = 0; refresh(); }, 250);
  });
  for (const select of [status, role]) select.control.addEventListener('change', () => { shown = 0; refresh(); });
  await refresh();
  const stop = ctx.live.on('member', refresh);
  return () => {
    clearTimeout(typing);
    stop();
  };
}
