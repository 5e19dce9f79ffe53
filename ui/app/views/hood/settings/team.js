// Who helps run the neighborhood: giving and taking captain and moderator roles, and for the
// owner, handing the neighborhood over.

import { api, ApiError, errorText } from '../../../api.js';
import { h, field, clearErrors, showErrors, busy, toast, phoneText } from '../../../dom.js';
import { coalesce } from '../../../live.js';
import { RANK, ROLE_NAMES, same, section } from './parts.js';

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
      && !window.confirm(`Step down to ${ROLE_NAMES[role].toLowerCase()}? You may lose access to this page.`)) return;
    await busy(button, async () => {
      try {
        await api(`neighborhoods/${ctx.id}/members/${member.id}`, { method: 'PATCH', body: { role } });
      } catch (error) {
        toast(errorText(error), { error: true });
        return;
      }
      toast(role === 'member'
        ? `${member.display_name} no longer has a role.`
        : `${member.display_name} is now a ${ROLE_NAMES[role].toLowerCase()}.`);
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
      const label = role === 'member' ? 'Remove role' : `Make ${ROLE_NAMES[role].toLowerCase()}`;
      const button = h('button', { type: 'button', class: role === 'member' ? 'danger' : '',
        'aria-label': `${label}: ${member.display_name}` }, label);
      button.addEventListener('click', () => changeRole(member, role, button));
      return button;
    });

  const row = (member) => h('li', { 'data-member': member.id, tabindex: '-1' },
    h('div', { class: 'row' },
      h('div', {},
        h('strong', {}, member.display_name), me.phone && member.phone === me.phone ? ' (you) ' : ' ',
        h('span', { class: `badge${member.role === 'owner' ? ' ok' : ''}` }, ROLE_NAMES[member.role]), ' ',
        member.status !== 'active' ? h('span', { class: 'badge warn' }, member.status.replace('_', ' ')) : null,
        member.phone ? h('div', { class: 'muted' }, phoneText(member.phone)) : null),
      member.role === 'owner'
        ? h('p', { class: 'hint' }, 'The owner changes only by handing over.')
        : h('div', { class: 'actions' }, roleButtons(member))));

  const heading = h('h4', { tabindex: '-1' }, 'Who helps run it');
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

  const search = field({ label: 'Find a member by name', name: 'q', type: 'search',
    hint: 'Active members without a role. Type part of a name.', attrs: { autocomplete: 'off' } });
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
      if (page.items.length === 0) found.append(h('li', { class: 'empty' }, `No active member without a role matches “${q}”.`));
      else if (page.total > page.items.length) found.append(h('li', { class: 'empty' }, `${page.total - page.items.length} more: type more of the name.`));
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

  const node = section('roles', 'Captains and moderators',
    h('dl', { class: 'facts roles' },
      h('dt', {}, 'Moderators'), h('dd', {}, 'See join requests, members and messages; mute and unmute by text.'),
      h('dt', {}, 'Captains'), h('dd', {}, 'Also approve and remove members, send invites and announcements, and change these settings.'),
      h('dt', {}, 'Owner'), h('dd', {}, 'Also archives the neighborhood or hands it over to someone else.')),
    heading, listStatus, list,
    h('h4', {}, 'Give someone a role'), search, found);
  return { node, handOver, refresh };
}

function transferForm(ctx, team) {
  const candidates = team.filter((member) => member.role !== 'owner' && member.status === 'active');
  if (candidates.length === 0) {
    return section('owner', 'Hand over the neighborhood',
      h('p', {}, 'Make someone a captain or moderator first; then you can hand the neighborhood over to them.'));
  }
  const who = field({ label: 'New owner', name: 'member_id', type: 'select', value: '',
    options: [['', 'Choose…'], ...candidates.map((member) => [member.id, `${member.display_name} (${ROLE_NAMES[member.role].toLowerCase()})`])] });
  const confirm = field({ label: 'Type their name to confirm', name: 'confirm_name', attrs: { autocomplete: 'off', spellcheck: 'false' } });
  const submit = h('button', { class: 'danger primary', type: 'submit' }, 'Hand over');
  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    const member = candidates.find((candidate) => candidate.id === who.control.value);
    const problems = [];
    if (!member) problems.push({ field: 'member_id', message: 'Choose who becomes the owner.' });
    else if (!same(confirm.control.value, member.display_name)) {
      problems.push({ field: 'confirm_name', message: `Type “${member.display_name}” exactly as shown.` });
    }
    if (problems.length) {
      showErrors(form, new ApiError(400, 'validation_failed', 'Not handed over yet:', problems));
      return;
    }
    await busy(submit, async () => {
      try {
        await api(`neighborhoods/${ctx.id}/ownership`, { method: 'POST', body: { member_id: member.id } });
      } catch (error) {
        showErrors(form, error);
        return;
      }
      toast(`${member.display_name} is now the owner. You are a captain.`);
      await ctx.refreshMe();
      ctx.navigate(`#/n/${ctx.id}/settings`);
    });
  } }, who, confirm, h('div', { class: 'actions' }, submit));
  return section('owner', 'Hand over the neighborhood',
    h('p', {}, 'The new owner can do everything the owner does now, including handing it over again; the current owner stays on as a captain.'),
    form);
}
