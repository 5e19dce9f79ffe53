// API tokens for this neighborhood: the working ones, the revoked and expired ones, and a form
// that creates one and shows its secret once.

import { api, errorText } from '../../../api.js';
import { h, field, clearErrors, showErrors, busy, toast, when, copyField } from '../../../dom.js';
import { RANK, roleName, section } from './parts.js';
import { t, tParts } from '../../../i18n.js';

export function tokensSection(ctx, whoIs, { canCreate = true } = {}) {
  const list = h('ul', { class: 'list' });
  const inactive = h('details', { class: 'older' });
  const status = h('div', { 'aria-live': 'polite' });
  const secretSlot = h('div');

  const usable = (token) => !token.revoked_at && !(token.expires_at && new Date(token.expires_at) <= new Date());
  const tokenRow = (token) => {
    const revoke = usable(token)
      ? h('button', { type: 'button', class: 'danger', 'aria-label': t('app-tokens-revoke-label', { name: token.name }) }, t('app-tokens-revoke'))
      : null;
    revoke?.addEventListener('click', async () => {
      if (!window.confirm(t('app-tokens-revoke-confirm', { name: token.name }))) return;
      await busy(revoke, async () => {
        try {
          await api(`tokens/${token.id}`, { method: 'DELETE' });
          toast(t('app-tokens-revoked', { name: token.name }));
          await refresh();
          heading.focus();
        } catch (error) {
          toast(errorText(error), { error: true });
        }
      });
    });
    const state = token.revoked_at ? h('span', { class: 'badge bad' }, t('app-tokens-badge-revoked'))
      : !usable(token) ? h('span', { class: 'badge warn' }, t('app-tokens-badge-expired')) : null;
    // Three sentences: made when and by whom, last used, and when it ends.
    const history = [
      t('app-tokens-created', { when: when(token.created_at), who: whoIs(token.created_by, tokenNames) }),
      token.last_used_at ? t('app-tokens-last-used', { when: when(token.last_used_at) }) : t('app-tokens-never-used'),
      token.revoked_at ? t('app-tokens-revoked-at', { when: when(token.revoked_at) })
        : token.expires_at ? t(usable(token) ? 'app-tokens-expires' : 'app-tokens-expired', { when: when(token.expires_at) })
          : t('app-tokens-never-expires'),
    ];
    return h('li', {},
      h('div', { class: 'row' },
        h('div', {}, h('strong', {}, token.name), ' ',
          h('span', { class: 'badge' }, roleName(token.role) ?? t('app-tokens-platform')), ' ', state),
        revoke ? h('div', { class: 'actions' }, revoke) : null),
      h('p', { class: 'muted small-print' }, history.join(' ')));
  };

  const heading = h('h4', { tabindex: '-1' }, t('app-tokens-heading'));
  let tokenNames = new Map();
  async function refresh() {
    try {
      const { items } = await api('tokens');
      tokenNames = new Map(items.map((token) => [token.id, token.name]));
      const ours = items.filter((token) => token.neighborhood_id === ctx.id);
      const live = ours.filter(usable);
      const old = ours.filter((token) => !usable(token));
      list.replaceChildren(...live.map(tokenRow));
      if (live.length === 0) list.append(h('li', { class: 'empty' }, t('app-tokens-none')));
      inactive.hidden = old.length === 0;
      inactive.replaceChildren(h('summary', {}, t('app-tokens-inactive', { count: old.length })), h('ul', { class: 'list' }, old.map(tokenRow)));
      status.replaceChildren();
    } catch (error) {
      status.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorText(error)));
    }
  }

  const roles = ['moderator', 'captain', 'owner'].filter((role) => RANK[role] <= RANK[ctx.role]);
  const name = field({ label: t('app-tokens-name'), name: 'name', required: true, hint: t('app-tokens-name-hint'),
    attrs: { maxlength: 80, autocomplete: 'off' } });
  const role = field({ label: t('app-tokens-role'), name: 'role', type: 'select', value: 'moderator',
    hint: t('app-tokens-role-hint'),
    options: roles.map((value) => [value, roleName(value)]) });
  const expires = field({ label: t('app-tokens-expires-at'), name: 'expires_at', type: 'date',
    hint: t('app-tokens-expires-at-hint') });
  const submit = h('button', { class: 'primary', type: 'submit' }, t('app-tokens-create'));
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

  const node = section('tokens', t('app-tokens-title'),
    h('p', { class: 'hint' }, ...tParts('app-tokens-hint', { api: h('a', { href: '/docs' }, t('app-tokens-api-link')) })),
    secretSlot, heading, status, list, inactive, canCreate ? [h('h4', {}, t('app-tokens-create-heading')), form] : null);
  return { node, refresh };
}

function secretPanel({ token, secret }, done) {
  return h('div', { class: 'secret' },
    h('h4', { tabindex: '-1' }, t('app-tokens-secret-title', { name: token.name })),
    h('p', {}, ...tParts('app-tokens-secret-text', { warning: h('strong', {}, t('app-tokens-secret-warning')) })),
    copyField({ label: t('app-tokens-secret'), value: secret }),
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: done }, t('app-tokens-copied'))));
}
