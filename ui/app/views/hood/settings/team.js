// Who helps run the neighborhood: giving and taking captain and moderator roles, and for the
// owner, handing the neighborhood over.

import { api, ApiError, errorText } from '../../../api.js';
import { h, field, clearErrors, showErrors, busy, toast, phoneText } from '../../../dom.js';
import { coalesce } from '../../../live.js';
import { RANK, roleName, same, section } from './parts.js';
import { t } from '../../../i18n.js';

/** A role as a word inside a sentence ("moderator"), as message ids. */
const ROLE_WORDS = { member: 'app-team-role-member', moderator: 'app-team-role-moderator', captain: 'app-team-role-captain' };
const roleWord = (role) => (ROLE_WORDS[role] ? t(ROLE_WORDS[role]) : role);
/** The buttons that give a role, and the toast once given (message ids). */
const MAKE = { captain: 'app-team-make-captain', moderator: 'app-team-make-moderator', member: 'app-team-remove-role' };
const NOW = { captain: 'app-team-now-captain', moderator: 'app-team-now-moderator', member: 'app-team-no-role' };
/** A member's status other than active, as a badge. */
const STATUS_WORDS = {
  paused: 'app-team-status-paused', left: 'app-team-status-left', removed: 'app-team-status-removed', opted_out: 'app-team-status-opted-out',
};

async function membersWith(ctx, query) {
  const items = [];
  let after;
  do {
    const page = await api(`neighborhoods/${ctx.id}/members`, { query: { ...query, after, limit: 500 } });
    items.push(...page.items);
    after = page.next_after;
  } while (after);
  return items;
}

export function rolesSection(ctx) {
  const me = ctx.session.me;
  const list = h('ul', { class: 'list' });
  const listStatus = h('div', { 'aria-live': 'polite' });
  const handOver = h('div');
  let team = [];

  const changeRole = async (member, role, button) => {
    const self = Boolean(me.phone) && member.phone === me.phone;
    if (self && RANK[role] < RANK[member.role]
      && !window.confirm(t('app-team-step-down', { role: roleWord(role) }))) return;
    await busy(button, async () => {
      try {
        await api(`neighborhoods/${ctx.id}/members/${member.id}`, { method: 'PATCH', body: { role } });
      } catch (error) {
        toast(errorText(error), { error: true });
        return;
      }
      toast(t(NOW[role], { name: member.display_name }));
      if (self) {
        // Our own role changed: the tabs we may see changed too.
        await ctx.refreshMe();
        ctx.navigate(`#/n/${ctx.id}/settings`);
        return;
      }
      search.control.value = '';
      found.replaceChildren();
      await refresh();
      (list.querySelector(`[data-member="${member.id}"]`) ?? heading).focus();
    });
  };

  const roleButtons = (member) => ['captain', 'moderator', 'member']
    .filter((role) => role !== member.role)
    .map((role) => {
      const label = t(MAKE[role]);
      const button = h('button', { type: 'button', class: role === 'member' ? 'danger' : '',
        'aria-label': t('app-team-button-label', { action: label, name: member.display_name }) }, label);
      button.addEventListener('click', () => changeRole(member, role, button));
      return button;
    });

  const row = (member) => h('li', { 'data-member': member.id, tabindex: '-1' },
    h('div', { class: 'row' },
      h('div', {},
        h('strong', {}, member.display_name), me.phone && member.phone === me.phone ? ` ${t('app-team-you')} ` : ' ',
        h('span', { class: `badge${member.role === 'owner' ? ' ok' : ''}` }, roleName(member.role)), ' ',
        member.status !== 'active'
          ? h('span', { class: 'badge warn' }, STATUS_WORDS[member.status] ? t(STATUS_WORDS[member.status]) : member.status)
          : null,
        member.phone ? h('div', { class: 'muted' }, phoneText(member.phone)) : null),
      member.role === 'owner'
        ? h('p', { class: 'hint' }, t('app-team-owner-hint'))
        : h('div', { class: 'actions' }, roleButtons(member))));

  const heading = h('h4', { tabindex: '-1' }, t('app-team-heading'));
  let handOverKey = null;
  const refresh = coalesce(async () => {
    try {
      const groups = await Promise.all(['owner', 'captain', 'moderator'].map((role) => membersWith(ctx, { role })));
      team = groups.flat();
      list.replaceChildren(...team.map(row));
      listStatus.replaceChildren();
    } catch (error) {
      listStatus.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorText(error)));
      return;
    }
    // Rebuilt only when the choice changes, so a live update never wipes a half-typed name.
    const key = team.map((member) => `${member.id}:${member.role}:${member.status}:${member.display_name}`).join('|');
    if (ctx.role === 'owner' && key !== handOverKey) {
      handOverKey = key;
      handOver.replaceChildren(transferForm(ctx, team));
    }
  });

  const search = field({ label: t('app-team-search'), name: 'q', type: 'search',
    hint: t('app-team-search-hint'), attrs: { autocomplete: 'off' } });
  const found = h('ul', { class: 'list compact', 'aria-live': 'polite' });
  let timer = null;
  let asked = 0;
  const lookUp = async () => {
    const q = search.control.value.trim();
    const ticket = ++asked;
    if (!q) {
      found.replaceChildren();
      return;
    }
    try {
      const page = await api(`neighborhoods/${ctx.id}/members`, { query: { q, status: 'active', role: 'member', limit: 8 } });
      if (ticket !== asked) return;
      found.replaceChildren(...page.items.map((member) => h('li', {}, h('div', { class: 'row' },
        h('div', {}, h('strong', {}, member.display_name), member.phone ? h('div', { class: 'muted' }, phoneText(member.phone)) : null),
        h('div', { class: 'actions' }, roleButtons(member))))));
      if (page.items.length === 0) found.append(h('li', { class: 'empty' }, t('app-team-no-match', { query: q })));
      else if (page.total > page.items.length) {
        found.append(h('li', { class: 'empty' }, t('app-team-more', { count: page.total - page.items.length })));
      }
    } catch (error) {
      if (ticket === asked) found.replaceChildren(h('li', { class: 'alert', role: 'alert' }, errorText(error)));
    }
  };
  search.control.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(lookUp, 250);
  });
  search.control.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') event.preventDefault();
  });

  const node = section('roles', t('app-team-title'),
    h('dl', { class: 'facts roles' },
      h('dt', {}, t('app-team-moderators')), h('dd', {}, t('app-team-moderators-can')),
      h('dt', {}, t('app-team-captains')), h('dd', {}, t('app-team-captains-can')),
      h('dt', {}, t('app-role-owner')), h('dd', {}, t('app-team-owner-can'))),
    heading, listStatus, list,
    h('h4', {}, t('app-team-give')), search, found);
  return { node, handOver, refresh };
}

function transferForm(ctx, team) {
  const candidates = team.filter((member) => member.role !== 'owner' && member.status === 'active');
  if (candidates.length === 0) {
    return section('owner', t('app-owner-title'), h('p', {}, t('app-owner-nobody')));
  }
  const who = field({ label: t('app-owner-new'), name: 'member_id', type: 'select', value: '',
    options: [['', t('app-owner-choose')], ...candidates.map((member) => [member.id,
      t('app-owner-candidate', { name: member.display_name, role: roleWord(member.role) })])] });
  const confirm = field({ label: t('app-owner-confirm'), name: 'confirm_name', attrs: { autocomplete: 'off', spellcheck: 'false' } });
  const submit = h('button', { class: 'danger primary', type: 'submit' }, t('app-owner-submit'));
  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    const member = candidates.find((candidate) => candidate.id === who.control.value);
    const problems = [];
    if (!member) problems.push({ field: 'member_id', message: t('app-owner-choose-error') });
    else if (!same(confirm.control.value, member.display_name)) {
      problems.push({ field: 'confirm_name', message: t('app-closing-type-exactly', { name: member.display_name }) });
    }
    if (problems.length) {
      showErrors(form, new ApiError(400, 'validation_failed', t('app-owner-not-yet'), problems));
      return;
    }
    await busy(submit, async () => {
      try {
        await api(`neighborhoods/${ctx.id}/ownership`, { method: 'POST', body: { member_id: member.id } });
      } catch (error) {
        showErrors(form, error);
        return;
      }
      toast(t('app-owner-done', { name: member.display_name }));
      await ctx.refreshMe();
      ctx.navigate(`#/n/${ctx.id}/settings`);
    });
  } }, who, confirm, h('div', { class: 'actions' }, submit));
  return section('owner', t('app-owner-title'), h('p', {}, t('app-owner-text')), form);
}
