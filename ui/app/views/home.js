// Home: the captain's neighborhoods at a glance, and a way to create one (platform admins).

import { api, errorText } from '../api.js';
import { h, phoneText } from '../dom.js';
import { costText } from '../money.js';

/** "12 of 500 one-to-one texts today", or why none go out until midnight UTC. */
export function textsTodayText(today) {
  if (today.paused) {
    return `Daily limit of ${today.cap} one-to-one texts reached: join codes and welcomes resume at midnight UTC`;
  }
  if (today.deployment_paused) {
    return 'The service reached its daily limit of one-to-one texts: join codes and welcomes resume at midnight UTC';
  }
  return `${today.sent} of ${today.cap} one-to-one texts today`;
}

/**
 * "3 phones on the group text", and past Twilio's 50 a thread: "73 phones on the group text,
 * carried in 2 linked threads (50 each at most)". Captains need not know more: it grows by itself.
 */
export function placesText(summary) {
  const phones = plural(summary.sms_places_used, 'phone', 'phones');
  if (summary.groups <= 1) return `${phones} on the group text`;
  return `${phones} on the group text, carried in ${summary.groups} linked threads (50 each at most)`;
}

function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

async function neighborhoodCard(neighborhood) {
  const facts = h('dl', { class: 'facts' });
  const card = h('li', { class: 'card' },
    h('h2', {}, h('a', { href: `#/n/${neighborhood.id}/requests` }, neighborhood.name)),
    h('p', { class: 'muted' }, phoneText(neighborhood.phone_number),
      neighborhood.state === 'archived' ? h('span', { class: 'badge warn' }, ' archived') : null),
    facts);
  try {
    const summary = await api(`neighborhoods/${neighborhood.id}/summary`);
    facts.append(
      h('dt', {}, 'Members'), h('dd', {}, plural(summary.members, 'member', 'members')
        + (summary.paused ? `, ${summary.paused} paused` : '')),
      h('dt', {}, 'Waiting'), h('dd', {}, summary.pending_requests
        ? h('a', { href: `#/n/${neighborhood.id}/requests` }, plural(summary.pending_requests, 'join request', 'join requests'))
        : 'No join requests'),
      h('dt', {}, 'Group text'), h('dd', {}, placesText(summary)),
      h('dt', {}, 'Today'), h('dd', {}, summary.texts_today.paused || summary.texts_today.deployment_paused
        ? h('span', { class: 'badge warn' }, textsTodayText(summary.texts_today))
        : textsTodayText(summary.texts_today)),
    );
    try {
      const costs = await api(`neighborhoods/${neighborhood.id}/costs`);
      facts.append(h('dt', {}, 'Cost'), h('dd', {}, costText(costs)));
    } catch {
      // Costs are for captains and up; a moderator's card simply has no cost line.
    }
    if (summary.sync_failed) {
      facts.append(h('dt', {}, 'Attention'), h('dd', {}, h('a', { href: `#/n/${neighborhood.id}/members` },
        `${plural(summary.sync_failed, 'member', 'members')} could not be added to or taken off the group text`)));
    }
  } catch (error) {
    // A neighborhood where the viewer is a plain member has no summary for them.
    facts.replaceWith(h('p', { class: 'muted' }, errorText(error)));
  }
  return card;
}

export default async function home(container, ctx) {
  ctx.title('Your neighborhoods');
  const me = ctx.session.me;
  const heading = h('div', { class: 'row' }, h('h1', {}, 'Your neighborhoods'),
    me.platform_admin ? h('a', { class: 'button primary', href: '#/new' }, 'Create a neighborhood') : null);
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
      ? 'No neighborhood yet. Create the first one: it gets its own number to text.'
      : 'You hold no role in a neighborhood yet. Ask its captain to make you one.'));
    return;
  }
  const cards = await Promise.all(items.map(neighborhoodCard));
  container.append(h('ul', { class: 'cards list' }, cards));
}
