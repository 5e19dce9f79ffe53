// Audit log (captains): who did what, newest first, in words. Entries name people and tokens by
// reference ("member:<id>", "phone:+1...", "token:<id>"); those are looked up once so the log
// reads "Ana made Ben a captain" rather than a list of ids.

import { api, errorText } from '../../api.js';
import { h, busy, field, when, phoneText } from '../../dom.js';

const ACTIONS = {
  'neighborhood.create': 'Created the neighborhood',
  'neighborhood.update': 'Changed the settings',
  'neighborhood.archive': 'Archived the neighborhood',
  'neighborhood.sync': 'Repaired the group text to match Twilio',
  'member.add': 'Added a member',
  'member.update': 'Changed a member',
  'member.role_change': 'Changed a role',
  'member.remove': 'Removed a member',
  'member.bulk_remove': (detail) => `Removed ${members(detail.changed)}`,
  'member.bulk_pause': (detail) => `Paused ${members(detail.changed)}`,
  'member.bulk_resume': (detail) => `Resumed ${members(detail.changed)}`,
  'member.bulk_role_change': (detail) => `Made ${members(detail.changed)} ${detail.role ?? 'another role'}`,
  'member.retry_sync': 'Retried adding a member at Twilio',
  'member.mute': 'Muted a member',
  'member.unmute': 'Unmuted a member',
  'member.added_in_twilio': 'A member was added in the Twilio console',
  'member.removed_in_twilio': 'A member was removed in the Twilio console',
  'ownership.transfer': 'Handed over ownership',
  'join_request.approve': 'Approved a join request',
  'join_request.deny': 'Denied a join request',
  'join_request.approve_many': 'Approved join requests',
  'join_request.deny_many': 'Denied join requests',
  'invites.send': 'Texted invites',
  'message.announce': 'Sent an announcement',
  'message.hold': 'Announcement held: the monthly budget is used up',
  'message.release': 'Sent a held announcement',
  'neighborhood.budget_alert': 'Told the captains about the monthly budget',
  'announcement.schedule': 'Scheduled an announcement',
  'announcement.update': 'Changed a scheduled announcement',
  'announcement.cancel': 'Cancelled a scheduled announcement',
  'announcement.send': 'Sent a scheduled announcement',
  'token.create': 'Created an API token',
  'token.revoke': 'Revoked an API token',
};

const PAGE = 50;

/** The "What" filter: families of actions (a trailing dot matches all of them). */
const KINDS = [
  ['', 'Every kind of change'],
  ['member.', 'Members'],
  ['join_request.', 'Join requests'],
  ['message.', 'Messages and announcements'],
  ['announcement.', 'Scheduled announcements'],
  ['neighborhood.', 'Settings and the neighborhood'],
  ['invites.', 'Invites'],
  ['token.', 'API tokens'],
];

/** "10 members", for the entries of changes made to many members at once. */
function members(count) {
  return `${count} ${count === 1 ? 'member' : 'members'}`;
}

/** An entry's action in words. */
function actionText(item) {
  const text = ACTIONS[item.action];
  if (typeof text === 'function') return text(item.detail ?? {});
  return text ?? item.action;
}

/** Detail keys that read better renamed; the rest are shown as their words. */
const KEYS = {
  count: 'Invites texted',
  shards: 'Conversations',
  release_number: 'Number released',
  notice: 'Notice texted',
  requeued: 'Changes sent again',
  relinked: 'Members relinked',
  removed_strays: 'Strangers removed',
  removed_departed: 'Departed members removed',
  threshold_percent: 'Share of the budget (%)',
  monthly_budget: 'Monthly budget ($)',
  cost: 'Cost so far ($)',
  estimate: 'Estimated cost ($)',
  captains_texted: 'Captains texted',
  join_questions: 'Join questions',
  changed: 'Members changed',
  skipped: 'Members left as they were',
  members: 'Members',
  approved: 'Requests approved',
  denied: 'Requests denied',
  names: 'Who',
  name: 'Who',
  reason: 'Reason (for captains; not texted)',
};

/** Detail keys kept for integrations but not worth a line in the log (ids of a whole batch). */
const HIDDEN = new Set(['request_ids']);

/** Names for the ids an entry mentions; a failed lookup just leaves the ids showing. */
async function directory(ctx) {
  const byMember = new Map();
  const byPhone = new Map();
  const byToken = new Map();
  const actors = []; // [actor as the log names it, name]: who can act here
  const members = (async () => {
    let after;
    do {
      const page = await api(`neighborhoods/${ctx.id}/members`, { query: { after, limit: 500 } });
      for (const member of page.items) {
        byMember.set(member.id, member.display_name);
        if (member.phone) byPhone.set(member.phone, member.display_name);
        if (member.phone && member.role !== 'member') actors.push([`phone:${member.phone}`, member.display_name]);
      }
      after = page.next_after;
    } while (after);
  })();
  const tokens = api('tokens').then(({ items }) => {
    for (const token of items) byToken.set(token.id, token.name);
  });
  await Promise.allSettled([members, tokens]);
  for (const [id, name] of byToken) actors.push([`token:${id}`, `API token “${name}”`]);
  actors.sort((a, b) => a[1].localeCompare(b[1]));
  return { byMember, byPhone, byToken, actors };
}

function describer(ctx, names) {
  const me = ctx.session.me;
  /** "member:<id>" and friends, in words. */
  const ref = (text) => {
    if (typeof text !== 'string') return String(text);
    const [kind, ...rest] = text.split(':');
    const value = rest.join(':');
    if (kind === 'member') return names.byMember.get(value) ?? 'a former member';
    if (kind === 'token') return names.byToken.has(value) ? `API token “${names.byToken.get(value)}”` : 'an API token';
    if (kind === 'neighborhood') return value === ctx.id ? 'this neighborhood' : 'another neighborhood';
    if (kind === 'join_request') return 'a join request';
    if (kind === 'phone') {
      if (value === me.phone) return `you (${phoneText(value)})`;
      const name = names.byPhone.get(value);
      return name ? `${name} (${phoneText(value)})` : phoneText(value);
    }
    if (text === 'cli') return 'the command line';
    if (text === 'twilio') return 'Twilio';
    if (text === 'scheduler') return 'the scheduler';
    if (kind === 'announcement') return 'an announcement';
    return text;
  };
  const source = (text) => {
    if (text?.startsWith('ip:')) return `from ${text.slice(3)}`;
    return { sms: 'by text message', cli: 'on the command line', webhook: 'reported by Twilio', 'cost ledger': 'by the cost ledger', scheduler: 'when it was due' }[text] ?? text;
  };
  return { ref, source };
}

const REFERENCE = /^(member|token|neighborhood|join_request|phone|announcement):/;

/** A detail value as a short phrase; null and unchanged values are left out (undefined). */
function phrase(value, ref) {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') {
    if (REFERENCE.test(value)) return ref(value);
    if (/^\+\d{8,15}$/.test(value)) return phoneText(value);
    // Enum values like "invite_only" read better as words; names keep their underscores.
    return /^[a-z]+(_[a-z]+)+$/.test(value) ? value.replaceAll('_', ' ') : value;
  }
  if (Array.isArray(value)) return value.map((item) => phrase(item, ref)).filter((item) => item !== undefined).join(', ');
  if (typeof value === 'object') {
    if ('from' in value && 'to' in value && Object.keys(value).length === 2) {
      if (JSON.stringify(value.from) === JSON.stringify(value.to)) return undefined;
      return `${phrase(value.from, ref) ?? 'none'} → ${phrase(value.to, ref) ?? 'none'}`;
    }
    const parts = Object.entries(value).map(([key, inner]) => [key, phrase(inner, ref)]).filter(([, text]) => text !== undefined);
    return parts.length ? parts.map(([key, text]) => `${key.replaceAll('_', ' ')}: ${text}`).join('; ') : undefined;
  }
  return String(value);
}

function detailList(detail, ref) {
  if (!detail || typeof detail !== 'object' || Array.isArray(detail)) {
    const text = phrase(detail, ref);
    return text ? h('p', { class: 'audit-detail' }, text) : null;
  }
  const rows = Object.entries(detail)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, value]) => [key, phrase(value, ref)])
    .filter(([, text]) => text !== undefined && text !== '');
  if (rows.length === 0) return null;
  const label = (key) => KEYS[key] ?? key.charAt(0).toUpperCase() + key.slice(1).replaceAll('_', ' ');
  return h('dl', { class: 'facts audit-detail' }, rows.map(([key, text]) => [h('dt', {}, label(key)), h('dd', {}, text)]));
}

export default async function audit(container, ctx) {
  const list = h('ol', { class: 'list audit' });
  const status = h('div', { 'aria-live': 'polite' });
  const more = h('button', { type: 'button', hidden: true }, 'Load older entries');
  const kind = field({ label: 'What', name: 'action', type: 'select', value: '', options: KINDS });
  const filters = h('div', { class: 'filters', role: 'search', 'aria-label': 'Filter the audit log' }, kind);
  container.append(
    h('h2', { id: 'tab-heading' }, 'Audit log'),
    h('p', { class: 'hint' }, 'Every change made by captains, API tokens, texted commands and Twilio, newest first. Entries are never edited.'),
    filters, list, status, h('div', { class: 'actions' }, more),
  );

  const [names, first] = await Promise.all([
    directory(ctx),
    api(`neighborhoods/${ctx.id}/audit`, { query: { limit: PAGE } }),
  ]);
  const { ref, source } = describer(ctx, names);
  const who = field({ label: 'Who', name: 'actor', type: 'select', value: '', options: [['', 'Anyone'], ...names.actors] });
  filters.append(who);

  const entry = (item) => h('li', {},
    h('div', { class: 'row' },
      h('strong', {}, actionText(item)),
      h('time', { datetime: item.at, class: 'muted' }, when(item.at))),
    h('p', { class: 'muted audit-who' },
      `By ${ref(item.actor)}`, item.source ? ` ${source(item.source)}` : '',
      item.target && !item.target.startsWith('neighborhood:') ? ` · ${ref(item.target)}` : ''),
    detailList(item.detail, ref));

  const query = () => ({ action: kind.control.value || undefined, actor: who.control.value || undefined, limit: PAGE });
  const filtered = () => Boolean(kind.control.value || who.control.value);
  let before = null;
  const show = (page, { focusFirst = false } = {}) => {
    const items = page.items.map(entry);
    list.append(...items);
    before = page.next_before ?? null;
    more.hidden = !before;
    if (list.children.length === 0 && !before) {
      status.replaceChildren(h('p', { class: 'empty' }, filtered() ? 'No entry matches these filters.' : 'Nothing has been recorded yet.'));
    } else if (!before) {
      status.replaceChildren(h('p', { class: 'empty' }, 'That is the beginning of the log.'));
    } else {
      status.replaceChildren();
    }
    if (focusFirst && items[0]) {
      items[0].setAttribute('tabindex', '-1');
      items[0].focus();
    }
  };
  show(first);

  // A new filter starts again from the newest entry.
  let asked = 0;
  const refilter = async () => {
    const ticket = ++asked;
    try {
      const page = await api(`neighborhoods/${ctx.id}/audit`, { query: query() });
      if (ticket !== asked) return;
      list.replaceChildren();
      show(page);
    } catch (error) {
      if (ticket === asked) status.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorText(error)));
    }
  };
  kind.control.addEventListener('change', refilter);
  who.control.addEventListener('change', refilter);

  more.addEventListener('click', () => busy(more, async () => {
    try {
      show(await api(`neighborhoods/${ctx.id}/audit`, { query: { ...query(), before } }), { focusFirst: true });
    } catch (error) {
      status.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorText(error)));
    }
  }));
  return undefined;
}
