// Invite: the join link and its QR code for anyone running the group, and personal invite texts
// for captains (each carries a link that works even when the neighborhood is invite-only).

import { api, ApiError } from '../../api.js';
import { h, field, choices, clearErrors, showErrors, busy, phoneText, copyField } from '../../dom.js';
import { t, tCount, tParts } from '../../i18n.js';

const SKIP_REASONS = {
  already_member: 'app-invite-skip-member',
  duplicate: 'app-invite-skip-duplicate',
  daily_limit: 'app-invite-skip-limit',
};

/** The API numbers its complaints by position ("phones[2]"); readers want the line they typed. */
function showPhoneErrors(form, textarea, error) {
  const perPhone = error instanceof ApiError
    ? error.details.filter((detail) => /^phones\[\d+\]$/.test(detail?.field ?? ''))
    : [];
  const others = perPhone.length ? error.details.filter((detail) => !perPhone.includes(detail)) : [];
  const rest = perPhone.length
    ? new ApiError(error.status, error.code, others.length ? error.message : t('app-invite-fix-numbers'), others)
    : error;
  showErrors(form, rest);
  if (perPhone.length === 0) return;
  const slot = textarea.closest('.field').querySelector('.field-error');
  slot.replaceChildren(
    h('span', {}, tCount(perPhone.length, 'app-invite-fix-one', 'app-invite-fix-other')),
    h('ul', {}, perPhone.map((detail) => {
      const position = Number(detail.field.slice(7, -1));
      // The API's sentence already quotes what was typed.
      return h('li', {}, t('app-invite-number-error', { position: position + 1, message: detail.message }));
    })),
  );
  slot.hidden = false;
  textarea.setAttribute('aria-invalid', 'true');
  textarea.focus();
}

function sendForm(ctx) {
  const phones = field({
    label: t('app-invite-phones'), name: 'phones', type: 'textarea', required: true,
    hint: t('app-invite-phones-hint'),
    attrs: { rows: 5, autocomplete: 'off', spellcheck: 'false', placeholder: t('app-invite-phones-placeholder') },
  });
  const result = h('div', { class: 'invite-result', 'aria-live': 'polite' });
  const submit = h('button', { class: 'primary', type: 'submit' }, t('app-invite-send'));
  // With a WhatsApp sender, invites may go on WhatsApp instead (as the approved invite template).
  const sender = ctx.neighborhood?.whatsapp_sender;
  const channel = sender ? choices({
    legend: t('app-invite-channel'), name: 'channel', value: 'sms', options: [
      ['sms', t('app-invite-channel-sms'), t('app-invite-channel-sms-hint', { number: phoneText(ctx.neighborhood.phone_number) })],
      ['whatsapp', t('app-invite-channel-whatsapp'), t('app-invite-channel-whatsapp-hint', { number: phoneText(sender) })],
    ],
  }) : null;
  channel?.addEventListener('change', () => {
    submit.textContent = t(channel.value() === 'whatsapp' ? 'app-invite-send-whatsapp' : 'app-invite-send');
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
    ? t('app-invite-none-sent')
    : tCount(invited.length, 'app-invite-sent-one', 'app-invite-sent-other');
  return h('div', { class: invited.length ? 'success' : 'alert' },
    h('h4', { tabindex: '-1' }, headline),
    invited.length ? h('ul', { class: 'plain' }, invited.map((phone) => h('li', {}, phoneText(phone)))) : null,
    skipped.length ? [
      h('p', {}, t('app-invite-skipped', { count: skipped.length })),
      h('ul', { class: 'plain' }, skipped.map(({ phone, reason }) => h('li', {}, t('app-invite-skipped-phone', {
        phone: phoneText(phone), reason: SKIP_REASONS[reason] ? t(SKIP_REASONS[reason]) : reason,
      })))),
    ] : null);
}

export default async function invite(container, ctx) {
  const neighborhood = ctx.neighborhood;
  container.append(h('h2', { id: 'tab-heading' }, t('app-invite-title')));
  if (neighborhood.state === 'archived') {
    container.append(h('p', { class: 'empty' }, t('app-invite-archived')));
    return;
  }
  const link = await api(`neighborhoods/${ctx.id}/invites/link`);
  const qrUrl = `/api/v1/neighborhoods/${encodeURIComponent(ctx.id)}/invites/qr?format=svg`;

  const share = h('section', { class: 'card', 'aria-labelledby': 'share-heading' },
    h('h3', { id: 'share-heading' }, t('app-invite-share')),
    neighborhood.join_policy === 'invite_only'
      ? h('p', { class: 'note' }, t('app-invite-invite-only'))
      : h('p', {}, ...tParts('app-invite-anyone', {
        join: h('strong', {}, t('app-join-keyword')), number: h('strong', {}, phoneText(link.phone_number)),
      })),
    copyField({ label: t('app-invite-link'), value: link.url }),
    h('div', { class: 'qr-block' },
      h('img', { class: 'qr', src: qrUrl, alt: t('app-qr-alt', { url: link.url }), width: 256, height: 256 }),
      h('div', {},
        h('p', {}, t('app-invite-qr')),
        h('ul', { class: 'plain' },
          h('li', {}, h('a', { href: `#/n/${ctx.id}/flyer` }, t('app-invite-flyer'))),
          h('li', {}, h('a', {
            href: `/api/v1/neighborhoods/${encodeURIComponent(ctx.id)}/invites/qr?format=png`, download: `${neighborhood.slug}-qr.png`,
          }, t('app-invite-png'))),
          h('li', {}, h('a', { href: qrUrl, download: `${neighborhood.slug}-qr.svg` }, t('app-invite-svg'))))),
    ));

  const texting = h('section', { class: 'card', 'aria-labelledby': 'text-heading' },
    h('h3', { id: 'text-heading' }, t('app-invite-personal')),
    ctx.atLeast('captain')
      ? [h('p', { class: 'hint' }, t('app-invite-personal-hint')), sendForm(ctx)]
      : h('p', { class: 'muted' }, t('app-invite-captains-only')));

  container.append(share, texting);
  return undefined;
}
