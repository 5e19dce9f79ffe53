// One neighborhood: its header, the tabs a role may see, the live feed, and the open tab's view.

import { api } from '../api.js';
import { h, phoneText } from '../dom.js';
import { LiveFeed, coalesce } from '../live.js';

const RANK = { member: 0, moderator: 1, captain: 2, owner: 3 };

/** [tab, label, least role, module] */
const TABS = [
  ['requests', 'Join requests', 'moderator', './hood/requests.js'],
  ['members', 'Members', 'moderator', './hood/members.js'],
  ['messages', 'Messages', 'moderator', './hood/messages.js'],
  ['invite', 'Invite', 'moderator', './hood/invite.js'],
  ['data', 'Import & export', 'moderator', './hood/data.js'],
  ['settings', 'Settings', 'captain', './hood/settings/index.js'],
  ['audit', 'Audit log', 'captain', './hood/audit.js'],
];

function roleIn(me, id) {
  if (me.platform_admin) return 'owner';
  return me.roles.find((held) => held.neighborhood_id === id)?.role ?? 'member';
}

export default async function hood(container, ctx, { id, tab }) {
  const role = roleIn(ctx.session.me, id);
  const atLeast = (least) => RANK[role] >= RANK[least];
  const visible = TABS.filter(([, , least]) => atLeast(least));
  const current = visible.find(([name]) => name === tab);
  if (!current) {
    ctx.navigate(`#/n/${id}/${visible[0]?.[0] ?? 'requests'}`);
    return undefined;
  }
  let neighborhood = await api(`neighborhoods/${id}`);
  const liveStatus = h('span', { class: 'live', role: 'status' });
  // An archived neighborhood changes no more: nothing to listen for.
  const live = neighborhood.state === 'archived' ? new LiveFeed(null, null) : new LiveFeed(id, liveStatus);
  const heading = h('h1', {}, neighborhood.name);
  const subline = h('p', { class: 'muted' });
  const tabLinks = new Map();
  const nav = h('nav', { 'aria-label': 'Neighborhood' }, h('ul', { class: 'tabs' }, visible.map(([name, label]) => {
    const link = h('a', { href: `#/n/${id}/${name}`, 'aria-current': name === current[0] ? 'page' : false }, label);
    tabLinks.set(name, link);
    return h('li', {}, link);
  })));
  const body = h('section', { 'aria-labelledby': 'tab-heading' });
  container.append(h('div', { class: 'row' }, heading, liveStatus), subline, nav, body);

  const showHeader = () => {
    heading.textContent = neighborhood.name;
    subline.replaceChildren(h('span', {},
      `Text ${phoneText(neighborhood.phone_number)}`,
      ` · ${neighborhood.mode === 'announce_only' ? 'announcements only' : 'everyone can post'} `,
      neighborhood.state === 'archived' ? h('span', { class: 'badge warn' }, 'archived') : null));
  };
  showHeader();

  // The waiting count rides in the tab label and in the browser tab's title.
  const refreshCount = coalesce(async () => {
    const summary = await api(`neighborhoods/${id}/summary`);
    const waiting = summary.pending_requests;
    tabLinks.get('requests').textContent = waiting ? `Join requests (${waiting})` : 'Join requests';
    ctx.title(`${waiting ? `(${waiting}) ` : ''}${current[1]} · ${neighborhood.name}`);
  });
  ctx.title(`${current[1]} · ${neighborhood.name}`);
  refreshCount();
  const stopCount = live.on('join_request', refreshCount);

  const view = await import(current[3]);
  const hoodCtx = {
    ...ctx,
    id,
    role,
    atLeast,
    live,
    get neighborhood() { return neighborhood; },
    async reloadNeighborhood() {
      neighborhood = await api(`neighborhoods/${id}`);
      showHeader();
      return neighborhood;
    },
    refreshCount,
  };
  const stopView = await view.default(body, hoodCtx);
  return () => {
    stopCount();
    if (typeof stopView === 'function') stopView();
    live.close();
  };
}
