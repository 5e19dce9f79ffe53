// A one-page flyer to print and pin up: the neighborhood, a big QR code to the join page, and
// the texting instructions for neighbors without a smartphone camera. Print styles in app.css.

import { api } from '../api.js';
import { h } from '../dom.js';

/** How a US neighbor writes a number on paper: (415) 555-0100. Others stay in E.164. */
function paperNumber(e164) {
  const match = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164 ?? '');
  return match ? `(${match[1]}) ${match[2]}-${match[3]}` : (e164 ?? '');
}

const HOW_IN = {
  approval: 'A neighbor who runs the group approves each request.',
  open: 'You are in as soon as you confirm your phone.',
  invite_only: 'This group is invite-only.',
};

export default async function flyer(container, ctx, { id }) {
  const [neighborhood, link] = await Promise.all([
    api(`neighborhoods/${id}`),
    api(`neighborhoods/${id}/invites/link`),
  ]);
  ctx.title(`Flyer · ${neighborhood.name}`);
  const dense = neighborhood.name.length > 40 || neighborhood.description.length > 240;
  const back = h('a', { class: 'button', href: `#/n/${id}/invite` }, 'Back to Invite');
  const print = h('button', { class: 'primary', type: 'button', onclick: () => window.print() }, 'Print');
  container.append(
    h('div', { class: 'no-print flyer-tools' },
      h('div', { class: 'actions' }, back, print),
      h('p', { class: 'hint' }, 'Fits one Letter or A4 page. Only the flyer below is printed.'),
      neighborhood.join_policy === 'invite_only'
        ? h('p', { class: 'note' }, 'This neighborhood is invite-only: people who scan this code can read about it, but only invited phones can ask to join.')
        : null),
    // A long name or description gets smaller print, so the flyer still fits one page.
    h('article', { class: dense ? 'flyer dense' : 'flyer', 'aria-label': 'Flyer' },
      h('p', { class: 'flyer-kicker' }, 'Neighborhood group text'),
      h('h1', {}, neighborhood.name),
      neighborhood.description ? h('p', { class: 'flyer-description' }, neighborhood.description) : null,
      h('img', {
        class: 'qr flyer-qr',
        src: `/api/v1/neighborhoods/${encodeURIComponent(id)}/invites/qr?format=svg`,
        alt: `QR code that opens the join page ${link.url}`,
        width: 320,
        height: 320,
      }),
      h('p', { class: 'flyer-scan' }, 'Scan with your phone camera to join.'),
      h('p', { class: 'flyer-cta' }, 'Or text ', h('strong', {}, 'JOIN'), ' and your name to',
        h('span', { class: 'flyer-number' }, paperNumber(link.phone_number))),
      h('p', { class: 'flyer-url' }, link.url),
      h('p', { class: 'flyer-fine' },
        'One number for the whole neighborhood: text it and everyone in the group gets your message, with your name. ',
        `${HOW_IN[neighborhood.join_policy] ?? ''} Text LEAVE at any time to leave. Message and data rates may apply.`)),
  );
  print.focus();
}
