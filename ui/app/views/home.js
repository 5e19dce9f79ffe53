// Home: the captain's neighborhoods at a glance, and a way to create one (platform admins).

import { api, errorText } from '../api.js';
import { h, phoneText } from '../dom.js';
import { costText } from '../money.js';
import { t, tCount } from '../i18n.js';

/** "12 of 500 one-to-one texts today", or why none go out until midnight UTC. */
export function textsTodayText(today) {
  if (today.paused) return t('app-home-today-paused', { cap: today.cap });
  if (today.deployment_paused) return t('app-home-today-service-paused');
  return t('app-home-today', { sent: today.sent, cap: today.cap });
}

/**
 * "3 phones on the group text", and past Twilio's 50 a thread: "73 phones on the group text,
 * carried in 2 linked threads (50 each at most)". Captains need not know more: it grows by itself.
 */
export function placesText(summary) {
  const phones = summary.sms_places_used;
  if (summary.groups <= 1) return tCount(phones, 'app-home-places-one', 'app-home-places-other');
  return tCount(phones, 'app-home-places-threads-one', 'app-home-places-threads-other', { groups: summary.groups });
}

/** "12 members, 2 paused": the members in the group, as Home and the Members tab both say it. */
function membersText(active, paused) {
  return paused
    ? tCount(active, 'app-members-count-paused-one', 'app-members-count-paused-other', { paused })
    : tCount(active, 'app-members-count-one', 'app-members-count-other');
}

async function neighborhoodCard(neighborhood) {
  const facts = h('dl', { class: 'facts' });
  const card = h('li', { class: 'card' },
    h('h2', {}, h('a', { href: `#/n/${neighborhood.id}/requests` }, neighborhood.name)),
    h('p', { class: 'muted' }, phoneText(neighborhood.phone_number),
      neighborhood.state === 'archived' ? h('span', { class: 'badge warn' }, ` ${t('app-home-archived')}`) : null),
    facts);
  try {
    const summary = await api(`neighborhoods/${neighborhood.id}/summary`);
    facts.append(
      h('dt', {}, t('app-home-members')), h('dd', {}, membersText(summary.members, summary.paused)),
      h('dt', {}, t('app-home-waiting')), h('dd', {}, summary.pending_requests
        ? h('a', { href: `#/n/${neighborhood.id}/requests` },
          tCount(summary.pending_requests, 'app-home-requests-one', 'app-home-requests-other'))
        : t('app-home-no-requests')),
      h('dt', {}, t('app-home-group-text')), h('dd', {}, placesText(summary)),
      h('dt', {}, t('app-home-today-label')), h('dd', {}, summary.texts_today.paused || summary.texts_today.deployment_paused
        ? h('span', { class: 'badge warn' }, textsTodayText(summary.texts_today))
        : textsTodayText(summary.texts_today)),
    );
    try {
      const costs = await api(`neighborhoods/${neighborhood.id}/costs`);
      facts.append(h('dt', {}, t('app-home-cost')), h('dd', {}, costText(costs)));
    } catch {
      // Costs are for captains and up; a moderator's card simply has no cost line.
    }
    if (summary.sync_failed) {
      facts.append(h('dt', {}, t('app-home-attention')), h('dd', {}, h('a', { href: `#/n/${neighborhood.id}/members` },
        tCount(summary.sync_failed, 'app-home-sync-failed-one', 'app-home-sync-failed-other'))));
    }
  } catch (error) {
    // A neighborhood where the viewer is a plain member has no summary for them.
    facts.replaceWith(h('p', { class: 'muted' }, errorText(error)));
  }
  return card;
}

export default async function home(container, ctx) {
  ctx.title(t('app-home-title'));
  const me = ctx.session.me;
  const heading = h('div', { class: 'row' }, h('h1', {}, t('app-home-title')),
    me.platform_admin ? h('a', { class: 'button primary', href: '#/new' }, t('app-home-create')) : null);
  container.append(heading);
  const items = [];
  // Archived neighborhoods stay readable, so they are listed after the active ones.
  for (const state of ['active', 'archived']) {
    let after;
    do {
      const page = await api('neighborhoods', { query: { state, after, limit: 100 } });
      items.push(...page.items);
      after = page.next_after;
    } while (after);
  }
  if (items.length === 0) {
    container.append(h('p', { class: 'empty' }, me.platform_admin
      ? t('app-home-empty-admin')
      : t('app-home-empty')));
    return;
  }
  const cards = await Promise.all(items.map(neighborhoodCard));
  container.append(h('ul', { class: 'cards list' }, cards));
}
