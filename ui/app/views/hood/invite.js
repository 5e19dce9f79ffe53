// Invite: the join link and its QR code for anyone running the group, and personal invite texts
// for captains (each carries a link that works even when the neighborhood is invite-only).

import { api, ApiError } from '../../api.js';
import { h, field, choices, clearErrors, showErrors, busy, phoneText, copyField } from '../../dom.js';

const SKIP_REASONS = {
  already_member: 'already a member',
  duplicate: 'listed twice',
  daily_limit: 'over the limit of 200 invites a day; try again tomorrow',
};

/** The API numbers its complaints by position ("phones[2]"); readers want the line they typed. */
function showPhoneErrors(form, textarea, error) {
  const perPhone = error instanceof ApiError
    ? error.details.filter((detail) => /^phones\[\d+\]$/.test(detail?.field ?? ''))
    : [];
  const others = perPhone.length ? error.details.filter((detail) => !perPhone.includes(detail)) : [];
  const rest = perPhone.length
    ? new ApiError(error.status, error.code, others.length ? error.message : 'Nothing was sent: some numbers need fixing.', others)
    : error;
  showErrors(form, rest);
  if (perPhone.length === 0) return;
  const slot = textarea.closest('.field').querySelector('.field-error');
  slot.replaceChildren(
    h('span', {}, perPhone.length === 1 ? 'Fix this number:' : `Fix these ${perPhone.length} numbers:`),
    h('ul', {}, perPhone.map((detail) => {
      const position = Number(detail.field.slice(7, -1));
      // The API's sentence already quotes what was typed.
      return h('li', {}, `Number ${position + 1}: ${detail.message}`);
    })),
  );
  slot.hidden = false;
  textarea.setAttribute('aria-invalid', 'true');
  textarea.focus();
}

function sendForm(ctx) {
  const phones = field({
    label: 'Phone numbers to invite', name: 'phones', type: 'textarea', required: true,
    hint: 'One per line, or separated by commas. Up to 100 at a time and 200 a day. Each gets a text with a personal join link.',
    attrs: { rows: 5, autocomplete: 'off', spellcheck: 'false', placeholder: '+1 415 555 0123\n(415) 555-0199' },
  });
  const result = h('div', { class: 'invite-result', 'aria-live': 'polite' });
  const submit = h('button', { class: 'primary', type: 'submit' }, 'Text invites');
  // With a WhatsApp sender, invites may go on WhatsApp instead (as the approved invite template).
  const sender = ctx.neighborhood?.whatsapp_sender;
  const channel = sender ? choices({
    legend: 'Send invites by', name: 'channel', value: 'sms', options: [
      ['sms', 'Text message (SMS)', `From ${phoneText(ctx.neighborhood.phone_number)}.`],
      ['whatsapp', 'WhatsApp', `From ${phoneText(sender)} on WhatsApp, for neighbors who use it.`],
    ],
  }) : null;
  channel?.addEventListener('change', () => {
    submit.textContent = channel.value() === 'whatsapp' ? 'Send WhatsApp invites' : 'Text invites';
  });
  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    result.replaceChildren();
    const entries = phones.control.value.split(/[\n,;]+/).map((entry) => entry.trim()).filter(Boolean);
    await busy(submit, async () => {
      try {
        const body = { phones: entries };
        if (channel?.value() === 'whatsapp') body.channel = 'whatsapp';
        const sent = await api(`neighborhoods/${ctx.id}/invites`, { method: 'POST', body });
        phones.control.value = '';
        result.replaceChildren(outcome(sent));
        result.querySelector('h4')?.focus();
      } catch (error) {
        showPhoneErrors(form, phones.control, error);
      }
    });
  } }, phones, channel, h('div', { class: 'actions' }, submit), result);
  return form;
}

function outcome({ invited, skipped }) {
  const headline = invited.length === 0
    ? 'No invites sent'
    : `${invited.length} ${invited.length === 1 ? 'invite is' : 'invites are'} on the way`;
  return h('div', { class: invited.length ? 'success' : 'alert' },
    h('h4', { tabindex: '-1' }, headline),
    invited.length ? h('ul', { class: 'plain' }, invited.map((phone) => h('li', {}, phoneText(phone)))) : null,
    skipped.length ? [
      h('p', {}, `Skipped ${skipped.length}:`),
      h('ul', { class: 'plain' }, skipped.map(({ phone, reason }) =>
        h('li', {}, `${phoneText(phone)}: ${SKIP_REASONS[reason] ?? reason}`))),
    ] : null);
}

export default async function invite(container, ctx) {
  const neighborhood = ctx.neighborhood;
  container.append(h('h2', { id: 'tab-heading' }, 'Invite neighbors'));
  if (neighborhood.state === 'archived') {
    container.append(h('p', { class: 'empty' }, 'This neighborhood is archived and takes no new members.'));
    return;
  }
  const link = await api(`neighborhoods/${ctx.id}/invites/link`);
  const qrUrl = `/api/v1/neighborhoods/${encodeURIComponent(ctx.id)}/invites/qr?format=svg`;

  const share = h('section', { class: 'card', 'aria-labelledby': 'share-heading' },
    h('h3', { id: 'share-heading' }, 'Share the join link'),
    neighborhood.join_policy === 'invite_only'
      ? h('p', { class: 'note' }, 'This neighborhood is invite-only: people can open this link, but only phones that were texted a personal invite can ask to join.')
      : h('p', {}, 'Anyone with the link can ask to join. Or they text ', h('strong', {}, 'JOIN'),
        ' and their name to ', h('strong', {}, phoneText(link.phone_number)), '.'),
    copyField({ label: 'Join link', value: link.url }),
    h('div', { class: 'qr-block' },
      h('img', { class: 'qr', src: qrUrl, alt: `QR code that opens the join page ${link.url}`, width: 256, height: 256 }),
      h('div', {},
        h('p', {}, 'Phones open the join page when their camera sees this code.'),
        h('ul', { class: 'plain' },
          h('li', {}, h('a', { href: `#/n/${ctx.id}/flyer` }, 'Print a flyer with this code')),
          h('li', {}, h('a', { href: `/api/v1/neighborhoods/${encodeURIComponent(ctx.id)}/invites/qr?format=png`, download: `${neighborhood.slug}-qr.png` }, 'Download the code as a picture (PNG)')),
          h('li', {}, h('a', { href: qrUrl, download: `${neighborhood.slug}-qr.svg` }, 'Download it for print shops (SVG)')))),
    ));

  const texting = h('section', { class: 'card', 'aria-labelledby': 'text-heading' },
    h('h3', { id: 'text-heading' }, 'Text personal invites'),
    ctx.atLeast('captain')
      ? [h('p', { class: 'hint' }, 'People who are already members, and numbers listed twice, are skipped.'), sendForm(ctx)]
      : h('p', { class: 'muted' }, 'Captains can text invites. Share the link or the QR code instead.'));

  container.append(share, texting);
  return undefined;
}
