// One neighborhood: its header, the tabs a role may see, the live feed, and the open tab's view.

import { api } from '../api.js';
import { h, phoneText } from '../dom.js';
import { LiveFeed, coalesce } from '../live.js';
import { t } from '../i18n.js';

const RANK = { member: 0, moderator: 1, captain: 2, owner: 3 };

/**
 * [tab, label, short label for the phone's tab bar, least role, module]; the labels are message
 * ids. The first three are the phone's bottom bar; the rest sit behind its "More" button (all
 * show in one row on wider screens).
 */
const TABS = [
  ['requests', 'app-hood-tab-requests', 'app-hood-tab-requests-short', 'moderator', './hood/requests.js'],
  ['members', 'app-hood-tab-members', 'app-hood-tab-members-short', 'moderator', './hood/members.js'],
  ['messages', 'app-hood-tab-messages', 'app-hood-tab-messages-short', 'moderator', './hood/messages.js'],
  ['invite', 'app-hood-tab-invite', 'app-hood-tab-invite-short', 'moderator', './hood/invite.js'],
  ['data', 'app-hood-tab-data', 'app-hood-tab-data-short', 'moderator', './hood/data.js'],
  ['settings', 'app-hood-tab-settings', 'app-hood-tab-settings-short', 'captain', './hood/settings/index.js'],
  ['audit', 'app-hood-tab-audit', 'app-hood-tab-audit-short', 'captain', './hood/audit.js'],
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
      h('span', { class: 'tab-long' }, t(label)), h('span', { class: 'tab-short', 'aria-hidden': 'true' }, t(short)));
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
    const mode = t(neighborhood.mode === 'announce_only' ? 'app-hood-mode-announce-only' : 'app-hood-mode-open');
    subline.replaceChildren(h('span', {},
      `${t('app-hood-subline', { number: phoneText(neighborhood.phone_number), mode })} `,
      neighborhood.state === 'archived' ? h('span', { class: 'badge warn' }, t('app-hood-archived')) : null));
  };
  showHeader();

  // The waiting count rides in the tab label and in the browser tab's title.
  const refreshCount = coalesce(async () => {
    const summary = await api(`neighborhoods/${id}/summary`);
    const waiting = summary.pending_requests;
    const link = tabLinks.get('requests');
    link.querySelector('.tab-long').textContent = waiting
      ? t('app-hood-tab-requests-waiting', { count: waiting }) : t('app-hood-tab-requests');
    link.querySelector('.tab-short').textContent = waiting
      ? t('app-hood-tab-requests-short-waiting', { count: waiting }) : t('app-hood-tab-requests-short');
    ctx.title(waiting
      ? t('app-hood-title-waiting', { count: waiting, tab: t(current[1]), neighborhood: neighborhood.name })
      : t('app-hood-title', { tab: t(current[1]), neighborhood: neighborhood.name }));
  });
  ctx.title(t('app-hood-title', { tab: t(current[1]), neighborhood: neighborhood.name }));
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
    return h('nav', { 'aria-label': t('app-hood-nav'), class: 'tabbar' }, h('ul', { class: 'tabs bar-tabs' }, onTheBar));
  }
  const panelId = 'more-tabs';
  const currentBehind = TABS.slice(ON_THE_BAR).find(([name]) => name === current[0]);
  // The visible label starts the accessible name, as speech input users say what they see.
  const toggle = h('button', {
    type: 'button', class: 'more-toggle', 'aria-expanded': 'false', 'aria-controls': panelId,
    'data-current': currentBehind ? 'true' : false,
    'aria-label': currentBehind ? t('app-hood-more-current', { tab: t(currentBehind[2]) }) : false,
  }, currentBehind ? t(currentBehind[2]) : t('app-hood-more'), h('span', { 'aria-hidden': 'true' }, ' ▾'));
  const panel = h('ul', { class: 'tabs more-tabs', id: panelId }, behindMore);
  const setOpen = (open) => {
    toggle.setAttribute('aria-expanded', String(open));
    panel.classList.toggle('open', open);
  };
  toggle.addEventListener('click', () => setOpen(toggle.getAttribute('aria-expanded') !== 'true'));
  const nav = h('nav', { 'aria-label': t('app-hood-nav'), class: 'tabbar' },
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
