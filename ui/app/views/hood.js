// One neighborhood: its header, the tabs a role may see, the live feed, and the open tab's view.

import { api } from '../api.js';
import { h, phoneText } from '../dom.js';
import { LiveFeed, coalesce } from '../live.js';

const RANK = { member: 0, moderator: 1, captain: 2, owner: 3 };

/**
 * [tab, label, short label for the phone's tab bar, least role, module]. The first three are the
 * phone's bottom bar; the rest sit behind its "More" button (all show in one row on wider screens).
 */
const TABS = [
  ['requests', 'Join requests', 'Requests', 'moderator', './hood/requests.js'],
  ['members', 'Members', 'Members', 'moderator', './hood/members.js'],
  ['messages', 'Messages', 'Messages', 'moderator', './hood/messages.js'],
  ['invite', 'Invite', 'Invite', 'moderator', './hood/invite.js'],
  ['data', 'Import & export', 'Import', 'moderator', './hood/data.js'],
  ['settings', 'Settings', 'Settings', 'captain', './hood/settings/index.js'],
  ['audit', 'Audit log', 'Audit', 'captain', './hood/audit.js'],
];
const ON_THE_BAR = 3;

function roleIn(me, id) {
  if (me.platform_admin) return 'owner';
  return me.roles.find((held) => held.neighborhood_id === id)?.role ?? 'member';
}

export default async function hood(container, ctx, { id, tab }) {
  const role = roleIn(ctx.session.me, id);
  const atLeast = (least) => RANK[role] >= RANK[least];
  const visible = TABS.filter(([, , , least]) => atLeast(least));
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
  const tabItem = ([name, label, short]) => {
    const link = h('a', { href: `#/n/${id}/${name}`, 'aria-current': name === current[0] ? 'page' : false },
      h('span', { class: 'tab-long' }, label), h('span', { class: 'tab-short', 'aria-hidden': 'true' }, short));
    tabLinks.set(name, link);
    return h('li', {}, link);
  };
  const nav = tabBar(visible.slice(0, ON_THE_BAR).map(tabItem), visible.slice(ON_THE_BAR).map(tabItem), current);
  // The open tab, tapped again, takes the reader back to its top, as a phone app's tab bar does.
  nav.addEventListener('click', (event) => {
    if (event.target.closest('a')?.getAttribute('aria-current') !== 'page') return;
    event.preventDefault();
    const tabHeading = body.querySelector('#tab-heading');
    tabHeading?.setAttribute('tabindex', '-1');
    tabHeading?.focus();
  });
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
    const link = tabLinks.get('requests');
    link.querySelector('.tab-long').textContent = waiting ? `Join requests (${waiting})` : 'Join requests';
    link.querySelector('.tab-short').textContent = waiting ? `Requests (${waiting})` : 'Requests';
    ctx.title(`${waiting ? `(${waiting}) ` : ''}${current[1]} · ${neighborhood.name}`);
  });
  ctx.title(`${current[1]} · ${neighborhood.name}`);
  refreshCount();
  const stopCount = live.on('join_request', refreshCount);

  const view = await import(current[4]);
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

/**
 * The neighborhood's tabs: one row on wide screens; on phones a bar fixed to the bottom with the
 * first tabs and a "More" button that opens the rest (it names the open tab when that is one of
 * them, so where the captain is always shows).
 */
function tabBar(onTheBar, behindMore, current) {
  if (!behindMore.length) {
    return h('nav', { 'aria-label': 'Neighborhood', class: 'tabbar' }, h('ul', { class: 'tabs bar-tabs' }, onTheBar));
  }
  const panelId = 'more-tabs';
  const currentBehind = TABS.slice(ON_THE_BAR).find(([name]) => name === current[0]);
  // The visible label starts the accessible name, as speech input users say what they see.
  const toggle = h('button', {
    type: 'button', class: 'more-toggle', 'aria-expanded': 'false', 'aria-controls': panelId,
    'data-current': currentBehind ? 'true' : false,
    'aria-label': currentBehind ? `${currentBehind[2]} (more pages)` : false,
  }, currentBehind ? currentBehind[2] : 'More', h('span', { 'aria-hidden': 'true' }, ' ▾'));
  const panel = h('ul', { class: 'tabs more-tabs', id: panelId }, behindMore);
  const setOpen = (open) => {
    toggle.setAttribute('aria-expanded', String(open));
    panel.classList.toggle('open', open);
  };
  toggle.addEventListener('click', () => setOpen(toggle.getAttribute('aria-expanded') !== 'true'));
  const nav = h('nav', { 'aria-label': 'Neighborhood', class: 'tabbar' },
    h('ul', { class: 'tabs bar-tabs' }, onTheBar, h('li', { class: 'more-item' }, toggle)), panel);
  nav.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || toggle.getAttribute('aria-expanded') !== 'true') return;
    setOpen(false);
    toggle.focus();
  });
  // Leaving the bar (a tap on the page, Tab past the last link) closes the panel.
  nav.addEventListener('focusout', (event) => {
    if (!nav.contains(event.relatedTarget)) setOpen(false);
  });
  return nav;
}
