// Settings (captains): the neighborhood itself, its budget and catch-up (neighborhood.js), its
// quiet hours, its join questions, its WhatsApp sender (whatsapp.js), who helps run it and handing it over (team.js), API tokens,
// the integrators' event endpoints (endpoints.js), the Google Sheet kept in sync (sheet_hub.js), and for the owner archiving or deleting it
// (closing.js). Each part saves on its own, so one failure never loses what was typed in another.

import { h, phoneText } from '../../../dom.js';
import { RANK } from './parts.js';
import { neighborhoodForm, budgetSection, catchUpForm } from './neighborhood.js';
import { quietHoursSection } from './quiet_hours.js';
import { whatsappSection } from './whatsapp.js';
import { questionsForm } from './questions.js';
import { noticesSection } from './notices.js';
import { rolesSection } from './team.js';
import { tokensSection } from './tokens.js';
import { endpointsSection } from './endpoints.js';
import { sheetHubSection } from './sheet_hub.js';
import { archiveSection, deleteSection } from './closing.js';
import { t } from '../../../i18n.js';

export default async function settings(container, ctx) {
  container.append(h('h2', { id: 'tab-heading' }, t('app-settings-title')));
  const me = ctx.session.me;
  // Creators are recorded as "phone:+1...", "token:<id>" or "cli"; show them as people read them.
  const whoIs = (actor, tokenNames) => {
    if (actor?.startsWith('token:')) {
      const name = tokenNames.get(actor.slice(6));
      return name ? t('app-settings-by-token', { name }) : t('app-settings-by-a-token');
    }
    if (!actor?.startsWith('phone:')) return actor === 'cli' ? t('app-settings-by-cli') : (actor ?? t('app-settings-by-someone'));
    const phone = actor.slice(6);
    return phone === me.phone ? t('app-settings-by-you') : phoneText(phone);
  };
  const archived = ctx.neighborhood.state === 'archived';
  const tokens = tokensSection(ctx, whoIs, { canCreate: !archived });
  // Event endpoints are the captains' (the tab is too; a platform admin counts as an owner).
  const endpoints = RANK[ctx.role] >= RANK.captain ? endpointsSection(ctx, { canCreate: !archived }) : null;

  if (archived) {
    container.append(
      h('p', { class: 'note' }, t('app-settings-archived', { neighborhood: ctx.neighborhood.name })),
      tokens.node,
      endpoints?.node,
      ctx.role === 'owner' ? deleteSection(ctx) : null);
    await Promise.all([tokens.refresh(), endpoints?.refresh()]);
    return undefined;
  }

  const roles = rolesSection(ctx);
  const notices = noticesSection(ctx);
  const owner = ctx.role === 'owner';
  const costs = budgetSection(ctx);
  // The spreadsheet hub is the captains' too; a token's name is not needed to say who connected it.
  const sheetHub = RANK[ctx.role] >= RANK.captain ? sheetHubSection(ctx, (actor) => whoIs(actor, new Map())) : null;
  const jump = [
    ['neighborhood', t('app-settings-jump-neighborhood')],
    ['quiet', t('app-settings-jump-quiet')],
    ['costs', t('app-settings-jump-costs')],
    ['questions', t('app-settings-jump-questions')],
    ['notices', t('app-settings-jump-notices')],
    ['catch-up', t('app-settings-jump-catch-up')],
    ['whatsapp', t('app-settings-jump-whatsapp')],
    ['roles', t('app-settings-jump-roles')],
    ['tokens', t('app-settings-jump-tokens')],
  ];
  if (endpoints) jump.push(['endpoints', t('app-settings-jump-endpoints')]);
  if (sheetHub) jump.push(['sheet-hub', t('app-settings-jump-sheet-hub')]);
  if (owner) jump.push(['owner', t('app-settings-jump-owner')], ['archive', t('app-settings-jump-archive')]);
  container.append(
    h('nav', { class: 'jump', 'aria-label': t('app-settings-jump') }, h('ul', {}, jump.map(([id, label]) =>
      h('li', {}, h('a', { href: `#/n/${ctx.id}/settings`, onclick: (event) => {
        // The hash is the route, so jump by scrolling and moving focus instead.
        event.preventDefault();
        const target = document.getElementById(`${id}-heading`) ?? document.getElementById(id);
        target?.scrollIntoView({ block: 'start' });
        target?.focus({ preventScroll: true });
      } }, label))))),
    neighborhoodForm(ctx),
    quietHoursSection(ctx),
    costs.node,
    questionsForm(ctx),
    notices.node,
    catchUpForm(ctx),
    whatsappSection(ctx),
    roles.node,
    tokens.node,
    endpoints?.node,
    sheetHub?.node,
    owner ? roles.handOver : null,
    owner ? archiveSection(ctx) : null,
  );
  await Promise.all([roles.refresh(), tokens.refresh(), endpoints?.refresh(), sheetHub?.refresh(), costs.refresh(), notices.refresh()]);
  return ctx.live.on('member', roles.refresh);
}
