// A one-page flyer to print and pin up: the neighborhood, a big QR code to the join page, and
// the texting instructions for neighbors without a smartphone camera. Print styles in app.css.

import { api } from '../api.js';
import { h } from '../dom.js';
import { t, tParts } from '../i18n.js';

/** How a US neighbor writes a number on paper: (415) 555-0100. Others stay in E.164. */
function paperNumber(e164) {
  const match = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164 ?? '');
  return match ? `(${match[1]}) ${match[2]}-${match[3]}` : (e164 ?? '');
}

const HOW_IN = {
  approval: 'app-flyer-how-approval',
  open: 'app-flyer-how-open',
  invite_only: 'app-flyer-how-invite-only',
};

export default async function flyer(container, ctx, { id }) {
  const [neighborhood, link] = await Promise.all([
    api(`neighborhoods/${id}`),
    api(`neighborhoods/${id}/invites/link`),
  ]);
  ctx.title(t('app-flyer-title', { neighborhood: neighborhood.name }));
  const dense = neighborhood.name.length > 40 || neighborhood.description.length > 240;
  const back = h('a', { class: 'button', href: `#/n/${id}/invite` }, t('app-flyer-back'));
  const print = h('button', { class: 'primary', type: 'button', onclick: () => window.print() }, t('app-flyer-print'));
  const how = HOW_IN[neighborhood.join_policy];
  container.append(
    h('div', { class: 'no-print flyer-tools' },
      h('div', { class: 'actions' }, back, print),
      h('p', { class: 'hint' }, t('app-flyer-fits')),
      neighborhood.join_policy === 'invite_only'
        ? h('p', { class: 'note' }, t('app-flyer-invite-only-note'))
        : null),
    // A long name or description gets smaller print, so the flyer still fits one page.
    h('article', { class: dense ? 'flyer dense' : 'flyer', 'aria-label': t('app-flyer-label') },
      h('p', { class: 'flyer-kicker' }, t('app-flyer-kicker')),
      h('h1', {}, neighborhood.name),
      neighborhood.description ? h('p', { class: 'flyer-description' }, neighborhood.description) : null,
      h('img', {
        class: 'qr flyer-qr',
        src: `/api/v1/neighborhoods/${encodeURIComponent(id)}/invites/qr?format=svg`,
        alt: t('app-qr-alt', { url: link.url }),
        width: 320,
        height: 320,
      }),
      h('p', { class: 'flyer-scan' }, t('app-flyer-scan')),
      h('p', { class: 'flyer-cta' }, ...tParts('app-flyer-cta', {
        join: h('strong', {}, t('app-join-keyword')),
        number: h('span', { class: 'flyer-number' }, paperNumber(link.phone_number)),
      })),
      h('p', { class: 'flyer-url' }, link.url),
      h('p', { class: 'flyer-fine' }, t('app-flyer-fine', { how: how ? t(how) : '' }))),
  );
  print.focus();
}
