// API tokens for this neighborhood: the working ones, the revoked and expired ones, and a form
// that creates one and shows its secret once.

import { api, errorText } from '../../../api.js';
import { h, field, clearErrors, showErrors, busy, toast, when, copyField } from '../../../dom.js';
import { RANK, ROLE_NAMES, section } from './parts.js';

export function tokensSection(ctx, whoIs, { canCreate = true } = {}) {
  const list = h('ul', { class: 'list' });
  const inactive = h('details', { class: 'older' });
  const status = h('div', { 'aria-live': 'polite' });
  const secretSlot = h('div');

  const usable = (token) => !token.revoked_at && !(token.expires_at && new Date(token.expires_at) <= new Date());
  const tokenRow = (token) => {
    const revoke = usable(token) ? h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke ${token.name}` }, 'Revoke') : null;
    revoke?.addEventListener('click', async () => {
      if (!window.confirm(`Revoke “${token.name}”? Anything using it stops working at once.`)) return;
      await busy(revoke, async () => {
        try {
          await api(`tokens/${token.id}`, { method: 'DELETE' });
          toast(`“${token.name}” is revoked.`);
          await refresh();
          heading.focus();
        } catch (error) {
          toast(errorText(error), { error: true });
        }
      });
    });
    const state = token.revoked_at ? h('span', { class: 'badge bad' }, 'revoked')
      : !usable(token) ? h('span', { class: 'badge warn' }, 'expired') : null;
    return h('li', {},
      h('div', { class: 'row' },
        h('div', {}, h('strong', {}, token.name), ' ', h('span', { class: 'badge' }, ROLE_NAMES[token.role] ?? 'Platform'), ' ', state),
        revoke ? h('div', { class: 'actions' }, revoke) : null),
      h('p', { class: 'muted small-print' },
        `Created ${when(token.created_at)} by ${whoIs(token.created_by, tokenNames)}. `,
        token.last_used_at ? `Last used ${when(token.last_used_at)}. ` : 'Never used. ',
        token.revoked_at ? `Revoked ${when(token.revoked_at)}.`
          : token.expires_at ? `${usable(token) ? 'Expires' : 'Expired'} ${when(token.expires_at)}.` : 'Never expires.'));
  };

  const heading = h('h4', { tabindex: '-1' }, 'Tokens for this neighborhood');
  let tokenNames = new Map();
  async function refresh() {
    try {
      const { items } = await api('tokens');
      tokenNames = new Map(items.map((token) => [token.id, token.name]));
      const ours = items.filter((token) => token.neighborhood_id === ctx.id);
      const live = ours.filter(usable);
      const old = ours.filter((token) => !usable(token));
      list.replaceChildren(...live.map(tokenRow));
      if (live.length === 0) list.append(h('li', { class: 'empty' }, 'No working tokens.'));
      inactive.hidden = old.length === 0;
      inactive.replaceChildren(h('summary', {}, `Revoked and expired (${old.length})`), h('ul', { class: 'list' }, old.map(tokenRow)));
      status.replaceChildren();
    } catch (error) {
      status.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorText(error)));
    }
  }

  const roles = ['moderator', 'captain', 'owner'].filter((role) => RANK[role] <= RANK[ctx.role]);
  const name = field({ label: 'What it is for', name: 'name', required: true, hint: 'e.g. “newsletter sync”. 1 to 80 characters.', attrs: { maxlength: 80, autocomplete: 'off' } });
  const role = field({ label: 'What it may do', name: 'role', type: 'select', value: 'moderator',
    hint: 'Moderator: read members, requests and messages. Captain: also change them. Give the least it needs.',
    options: roles.map((value) => [value, ROLE_NAMES[value]]) });
  const expires = field({ label: 'Stops working after', name: 'expires_at', type: 'date',
    hint: 'Optional. Leave empty for a token that works until revoked.' });
  const submit = h('button', { class: 'primary', type: 'submit' }, 'Create token');
  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    const day = expires.control.value;
    const body = {
      name: name.control.value.trim(),
      neighborhood_id: ctx.id,
      role: role.control.value,
      // The end of the chosen day, in the reader's own time zone.
      expires_at: day ? new Date(`${day}T23:59:59`).toISOString() : undefined,
    };
    await busy(submit, async () => {
      try {
        const created = await api('tokens', { method: 'POST', body });
        form.reset();
        secretSlot.replaceChildren(secretPanel(created, () => secretSlot.replaceChildren()));
        secretSlot.querySelector('h4').focus();
        await refresh();
      } catch (error) {
        showErrors(form, error);
      }
    });
  } }, name, role, expires, h('div', { class: 'actions' }, submit));

  const node = section('tokens', 'API tokens',
    h('p', { class: 'hint' }, 'For scripts and other services that use the ', h('a', { href: '/docs' }, 'REST API'),
      ' for this neighborhood. Send a token as “Authorization: Bearer …”.'),
    secretSlot, heading, status, list, inactive, canCreate ? [h('h4', {}, 'Create a token'), form] : null);
  return { node, refresh };
}

function secretPanel({ token, secret }, done) {
  return h('div', { class: 'secret' },
    h('h4', { tabindex: '-1' }, `Token “${token.name}” created`),
    h('p', {}, h('strong', {}, 'Copy it now: it won\'t be shown again.'), ' Store it where your script can read it, like a password.'),
    copyField({ label: 'Token', value: secret }),
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: done }, 'I have copied it')));
}
