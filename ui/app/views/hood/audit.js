// Audit log (captains): who did what, newest first, in words. Entries name people and tokens by
// reference ("member:<id>", "phone:+1...", "token:<id>"); those are looked up once so the log
// reads "Ana made Ben a captain" rather than a list of ids.

import { api, errorText } from '../../api.js';
import { h, busy, field, when, phoneText } from '../../dom.js';
import { t, tCount } from '../../i18n.js';

/** Each action in words: a message id, or a function of the entry's detail for changes to many. */
const ACTIONS = {
  'neighborhood.create': 'app-audit-neighborhood-create',
  'neighborhood.update': 'app-audit-neighborhood-update',
  'neighborhood.archive': 'app-audit-neighborhood-archive',
  'neighborhood.sync': 'app-audit-neighborhood-sync',
  'member.add': 'app-audit-member-add',
  'member.update': 'app-audit-member-update',
  'member.role_change': 'app-audit-member-role-change',
  'member.remove': 'app-audit-member-remove',
  'member.bulk_remove': (detail) => tCount(detail.changed, 'app-audit-bulk-remove-one', 'app-audit-bulk-remove-other'),
  'member.bulk_pause': (detail) => tCount(detail.changed, 'app-audit-bulk-pause-one', 'app-audit-bulk-pause-other'),
  'member.bulk_resume': (detail) => tCount(detail.changed, 'app-audit-bulk-resume-one', 'app-audit-bulk-resume-other'),
  'member.bulk_role_change': (detail) => tCount(detail.changed, 'app-audit-bulk-role-one', 'app-audit-bulk-role-other',
    { role: detail.role ?? t('app-audit-another-role') }),
  'member.retry_sync': 'app-audit-member-retry-sync',
  'member.mute': 'app-audit-member-mute',
  'member.unmute': 'app-audit-member-unmute',
  'member.added_in_twilio': 'app-audit-member-added-in-twilio',
  'member.removed_in_twilio': 'app-audit-member-removed-in-twilio',
  'ownership.transfer': 'app-audit-ownership-transfer',
  'join_request.approve': 'app-audit-request-approve',
  'join_request.deny': 'app-audit-request-deny',
  'join_request.approve_many': 'app-audit-request-approve-many',
  'join_request.deny_many': 'app-audit-request-deny-many',
  'invites.send': 'app-audit-invites-send',
  'message.announce': 'app-audit-message-announce',
  'message.hold': 'app-audit-message-hold',
  'message.release': 'app-audit-message-release',
  'neighborhood.budget_alert': 'app-audit-budget-alert',
  'announcement.schedule': 'app-audit-announcement-schedule',
  'announcement.update': 'app-audit-announcement-update',
  'announcement.cancel': 'app-audit-announcement-cancel',
  'announcement.send': 'app-audit-announcement-send',
  'token.create': 'app-audit-token-create',
  'token.revoke': 'app-audit-token-revoke',
  'event_endpoint.create': 'app-audit-endpoint-create',
  'event_endpoint.delete': 'app-audit-endpoint-delete',
  'event_endpoint.rotate_secret': 'app-audit-endpoint-rotate-secret',
  'event_endpoint.enable': 'app-audit-endpoint-enable',
  'event_endpoint.replay': 'app-audit-endpoint-replay',
  'event_endpoint.disabled': 'app-audit-endpoint-disabled',
  'sheet_hub.connect': 'app-audit-sheet-hub-connect',
  'sheet_hub.configure': 'app-audit-sheet-hub-configure',
  'sheet_hub.sync': 'app-audit-sheet-hub-sync',
  'sheet_hub.disconnect': 'app-audit-sheet-hub-disconnect',
  'sheet_hub.paused': 'app-audit-sheet-hub-paused',
  'sheet_hub.sync_failed': 'app-audit-sheet-hub-sync-failed',
};

const PAGE = 50;

/** The "What" filter: families of actions (a trailing dot matches all of them). */
const KINDS = [
  ['', 'app-audit-kind-any'],
  ['member.', 'app-audit-kind-members'],
  ['join_request.', 'app-audit-kind-requests'],
  ['message.', 'app-audit-kind-messages'],
  ['announcement.', 'app-audit-kind-scheduled'],
  ['neighborhood.', 'app-audit-kind-neighborhood'],
  ['invites.', 'app-audit-kind-invites'],
  ['token.', 'app-audit-kind-tokens'],
  ['event_endpoint.', 'app-audit-kind-endpoints'],
  ['sheet_hub.', 'app-audit-kind-sheet-hub'],
];

/** An entry's action in words. */
function actionText(item) {
  const text = ACTIONS[item.action];
  if (typeof text === 'function') return text(item.detail ?? {});
  return text ? t(text) : item.action;
}

/** Detail keys that read better renamed (message ids); the rest are shown as their words. */
const KEYS = {
  count: 'app-audit-key-count',
  shards: 'app-audit-key-shards',
  release_number: 'app-audit-key-release-number',
  notice: 'app-audit-key-notice',
  requeued: 'app-audit-key-requeued',
  relinked: 'app-audit-key-relinked',
  removed_strays: 'app-audit-key-removed-strays',
  removed_departed: 'app-audit-key-removed-departed',
  threshold_percent: 'app-audit-key-threshold',
  monthly_budget: 'app-audit-key-budget',
  cost: 'app-audit-key-cost',
  estimate: 'app-audit-key-estimate',
  captains_texted: 'app-audit-key-captains-texted',
  join_questions: 'app-audit-key-join-questions',
  changed: 'app-audit-key-changed',
  skipped: 'app-audit-key-skipped',
  members: 'app-audit-key-members',
  approved: 'app-audit-key-approved',
  denied: 'app-audit-key-denied',
  names: 'app-audit-key-who',
  name: 'app-audit-key-who',
  reason: 'app-audit-key-reason',
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
  for (const [id, name] of byToken) actors.push([`token:${id}`, t('app-audit-token-named', { name })]);
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
    if (kind === 'member') return names.byMember.get(value) ?? t('app-audit-former-member');
    if (kind === 'token') {
      return names.byToken.has(value) ? t('app-audit-token-named', { name: names.byToken.get(value) }) : t('app-audit-a-token');
    }
    if (kind === 'neighborhood') return t(value === ctx.id ? 'app-audit-this-neighborhood' : 'app-audit-another-neighborhood');
    if (kind === 'join_request') return t('app-audit-a-request');
    if (kind === 'phone') {
      if (value === me.phone) return t('app-audit-you', { phone: phoneText(value) });
      const name = names.byPhone.get(value);
      return name ? t('app-audit-named-phone', { name, phone: phoneText(value) }) : phoneText(value);
    }
    if (text === 'cli') return t('app-audit-cli');
    if (text === 'twilio') return t('app-audit-twilio');
    if (text === 'scheduler') return t('app-audit-scheduler');
    if (kind === 'announcement') return t('app-audit-an-announcement');
    return text;
  };
  const SOURCES = {
    sms: 'app-audit-source-sms',
    cli: 'app-audit-source-cli',
    webhook: 'app-audit-source-webhook',
    'cost ledger': 'app-audit-source-ledger',
    scheduler: 'app-audit-source-scheduler',
    'google-sheets': 'app-audit-source-google-sheets',
  };
  const source = (text) => {
    if (text?.startsWith('ip:')) return t('app-audit-source-ip', { ip: text.slice(3) });
    return SOURCES[text] ? t(SOURCES[text]) : text;
  };
  return { ref, source };
}

const REFERENCE = /^(member|token|neighborhood|join_request|phone|announcement):/;

/** A detail value as a short phrase; null and unchanged values are left out (undefined). */
function phrase(value, ref) {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'boolean') return t(value ? 'app-audit-yes' : 'app-audit-no');
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
      const none = t('app-audit-none');
      return t('app-audit-from-to', { from: phrase(value.from, ref) ?? none, to: phrase(value.to, ref) ?? none });
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
  const label = (key) => (KEYS[key] ? t(KEYS[key]) : key.charAt(0).toUpperCase() + key.slice(1).replaceAll('_', ' '));
  return h('dl', { class: 'facts audit-detail' }, rows.map(([key, text]) => [h('dt', {}, label(key)), h('dd', {}, text)]));
}

export default async function audit(container, ctx) {
  const list = h('ol', { class: 'list audit' });
  const status = h('div', { 'aria-live': 'polite' });
  const more = h('button', { type: 'button', hidden: true }, t('app-audit-older'));
  const kind = field({ label: t('app-audit-what'), name: 'action', type: 'select', value: '',
    options: KINDS.map(([value, id]) => [value, t(id)]) });
  const filters = h('div', { class: 'filters', role: 'search', 'aria-label': t('app-audit-filters') }, kind);
  container.append(
    h('h2', { id: 'tab-heading' }, t('app-audit-title')),
    h('p', { class: 'hint' }, t('app-audit-hint')),
    filters, list, status, h('div', { class: 'actions' }, more),
  );

  const [names, first] = await Promise.all([
    directory(ctx),
    api(`neighborhoods/${ctx.id}/audit`, { query: { limit: PAGE } }),
  ]);
  const { ref, source } = describer(ctx, names);
  const who = field({ label: t('app-audit-who'), name: 'actor', type: 'select', value: '', options: [['', t('app-audit-anyone')], ...names.actors] });
  filters.append(who);

  const entry = (item) => h('li', {},
    h('div', { class: 'row' },
      h('strong', {}, actionText(item)),
      h('time', { datetime: item.at, class: 'muted' }, when(item.at))),
    h('p', { class: 'muted audit-who' },
      item.source
        ? t('app-audit-by-source', { who: ref(item.actor), source: source(item.source) })
        : t('app-audit-by', { who: ref(item.actor) }),
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
      status.replaceChildren(h('p', { class: 'empty' }, t(filtered() ? 'app-audit-no-match' : 'app-audit-empty')));
    } else if (!before) {
      status.replaceChildren(h('p', { class: 'empty' }, t('app-audit-beginning')));
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
  // A "What" chosen while the first page was loading is applied now, not lost.
  if (filtered()) refilter();

  more.addEventListener('click', () => busy(more, async () => {
    try {
      show(await api(`neighborhoods/${ctx.id}/audit`, { query: { ...query(), before } }), { focusFirst: true });
    } catch (error) {
      status.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorText(error)));
    }
  }));
  return undefined;
}
