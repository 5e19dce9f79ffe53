// Settings (captains): the neighborhood itself, its quiet hours (quiet_hours.js), its join
// questions, who helps run it, API tokens, and for the owner handing it over or archiving it.
// Each part saves on its own, so one failure never loses what was typed in another.

import { api, ApiError, errorText } from '../../api.js';
import { h, field, clearErrors, showErrors, busy, toast, when, phoneText } from '../../dom.js';
import { coalesce } from '../../live.js';
import { copyField } from './invite.js';
import { costText } from '../home.js';
import { quietHoursSection } from './quiet_hours.js';

const MAX_QUESTIONS = 10;
const RANK = { member: 0, moderator: 1, captain: 2, owner: 3 };
const ROLE_NAMES = { member: 'Member', moderator: 'Moderator', captain: 'Captain', owner: 'Owner' };

const MODES = [
  ['open', 'Everyone can post', 'Every member\'s text goes to the whole group.'],
  ['announce_only', 'Announcements only', 'Only captains post to the group. Members\' replies go privately to the captains.'],
];
const POLICIES = [
  ['approval', 'Captains approve', 'Anyone can ask on the join page or by texting JOIN; a captain approves each request.'],
  ['open', 'Open', 'Anyone who confirms their phone is in at once, without waiting for a captain.'],
  ['invite_only', 'Invite only', 'Only phones you text an invite to can ask to join; a captain still approves each request.'],
];

const names = (n, one, many) => `${n} ${n === 1 ? one : many}`;
const same = (a, b) => a.trim().toLowerCase() === b.trim().toLowerCase();

/** Radio buttons with an explanation under each; wrapped as a .field so showErrors finds it. */
function choices({ legend, name, value, options }) {
  const error = h('p', { class: 'field-error', hidden: true });
  const set = h('fieldset', { class: 'choices' }, h('legend', {}, legend),
    options.map(([option, label, explanation], index) => {
      const id = `${name}-${index}`;
      return h('div', { class: 'choice' },
        h('input', { type: 'radio', id, name, value: option, checked: option === value, 'aria-describedby': `${id}-hint` }),
        h('label', { for: id }, label),
        h('p', { class: 'hint', id: `${id}-hint` }, explanation));
    }));
  const wrapper = h('div', { class: 'field' }, set, error);
  wrapper.value = () => set.querySelector('input:checked')?.value;
  return wrapper;
}

function section(id, title, ...children) {
  return h('section', { class: 'card', id, 'aria-labelledby': `${id}-heading` },
    h('h3', { id: `${id}-heading`, tabindex: '-1' }, title), ...children);
}

// ---- (a) the neighborhood ----

function neighborhoodForm(ctx) {
  const current = ctx.neighborhood;
  const name = field({ label: 'Name', name: 'name', value: current.name, required: true,
    hint: 'Neighbors see it on the join page and the flyer; renaming also renames the group at Twilio.',
    attrs: { maxlength: 80 } });
  const description = field({ label: 'Description', name: 'description', type: 'textarea', value: current.description,
    hint: 'Shown on the join page and the flyer. At most 500 characters.', attrs: { maxlength: 500, rows: 3 } });
  const mode = choices({ legend: 'Who can post', name: 'mode', value: current.mode, options: MODES });
  const policy = choices({ legend: 'How neighbors join', name: 'join_policy', value: current.join_policy, options: POLICIES });
  const saved = h('p', { class: 'hint', role: 'status' });
  const submit = h('button', { class: 'primary', type: 'submit' }, 'Save');
  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    saved.textContent = '';
    const now = ctx.neighborhood;
    const wanted = {
      name: name.control.value.trim(),
      description: description.control.value.trim(),
      mode: mode.value(),
      join_policy: policy.value(),
    };
    // Only what changed: an unchanged name must not rename the group at Twilio again.
    const body = Object.fromEntries(Object.entries(wanted).filter(([key, value]) => value !== now[key]));
    if (Object.keys(body).length === 0) {
      saved.textContent = 'Nothing has changed.';
      return;
    }
    await busy(submit, async () => {
      try {
        await api(`neighborhoods/${ctx.id}`, { method: 'PATCH', body });
        await ctx.reloadNeighborhood();
        saved.textContent = `Saved at ${new Date().toLocaleTimeString()}.`;
      } catch (error) {
        showErrors(form, error);
      }
    });
  } }, name, description, mode, policy, h('div', { class: 'actions' }, submit, saved));
  return section('neighborhood', 'Neighborhood', form);
}

// ---- (a2) costs and the monthly budget ----

function budgetSection(ctx) {
  const now = h('p', {}, 'Loading this month\'s cost…');
  const budget = field({ label: 'Monthly budget (US dollars)', name: 'monthly_budget', value: ctx.neighborhood.monthly_budget ?? '',
    hint: 'Captains get a text at 80% and at 100% of it. From 100%, announcements wait until you raise it (the group chat goes on). Leave empty for no budget.',
    attrs: { inputmode: 'decimal', autocomplete: 'off' } });
  const saved = h('p', { class: 'hint', role: 'status' });
  const submit = h('button', { class: 'primary', type: 'submit' }, 'Save budget');
  const refresh = async () => {
    try {
      now.textContent = costText(await api(`neighborhoods/${ctx.id}/costs`));
    } catch (error) {
      now.textContent = errorText(error);
    }
  };
  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    saved.textContent = '';
    const value = budget.control.value.trim();
    await busy(submit, async () => {
      try {
        await api(`neighborhoods/${ctx.id}`, { method: 'PATCH', body: { monthly_budget: value === '' ? null : value } });
        await ctx.reloadNeighborhood();
        await refresh();
        saved.textContent = `Saved at ${new Date().toLocaleTimeString()}.`;
      } catch (error) {
        showErrors(form, error);
      }
    });
  } }, budget, h('div', { class: 'actions' }, submit, saved));
  return { node: section('costs', 'Costs and budget', now, form), refresh };
}


// ---- catch-up for new members ----

const CATCH_UP = [
  ['off', 'Off', 'New members get the welcome text only.'],
  ['text', 'In one text', 'The latest messages follow the welcome text, as many as fit one text.'],
  ['link', 'As a link', 'A link to a page of the latest messages; it opens once, within 7 days.'],
];

function catchUpForm(ctx) {
  const current = ctx.neighborhood.catch_up;
  const mode = choices({ legend: 'How new members catch up', name: 'catch_up.mode', value: current.mode, options: CATCH_UP });
  const messages = field({ label: 'How many of the latest messages', name: 'catch_up.messages', type: 'number', value: String(current.messages),
    hint: 'From 1 to 20.', attrs: { min: 1, max: 20, inputmode: 'numeric' } });
  const saved = h('p', { class: 'hint', role: 'status' });
  const submit = h('button', { class: 'primary', type: 'submit' }, 'Save catch-up');
  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    saved.textContent = '';
    await busy(submit, async () => {
      try {
        await api(`neighborhoods/${ctx.id}`, { method: 'PATCH', body: { catch_up: { mode: mode.value(), messages: Number(messages.control.value) } } });
        await ctx.reloadNeighborhood();
        saved.textContent = `Saved at ${new Date().toLocaleTimeString()}.`;
      } catch (error) {
        showErrors(form, error);
      }
    });
  } }, mode, messages, h('div', { class: 'actions' }, submit, saved));
  return section('catch-up', 'Catch-up for new members', h('p', { class: 'hint' }, 'What someone you approve gets of the conversation so far.'), form);
}

// ---- (b) join questions ----

function questionsForm(ctx) {
  let questions = ctx.neighborhood.join_questions.map((question) => ({ ...question, required: Boolean(question.required) }));
  const list = h('ol', { class: 'questions' });
  const add = h('button', { type: 'button' }, 'Add a question');
  const count = h('p', { class: 'hint', 'aria-live': 'polite' });
  const saved = h('p', { class: 'hint', role: 'status' });
  const submit = h('button', { class: 'primary', type: 'submit' }, 'Save questions');
  const set = h('fieldset', { class: 'bare', name: 'join_questions', tabindex: '-1' },
    h('legend', { class: 'vh' }, 'Join questions'), list, count, h('div', { class: 'actions' }, add));

  // The join form sends answers keyed by id, and ids must be unique: new ones take the first free qN.
  const freshId = () => {
    let n = 1;
    while (questions.some((question) => question.id === `q${n}`)) n += 1;
    return `q${n}`;
  };

  function render(focus) {
    list.replaceChildren(...questions.map((question, index) => {
      const text = field({ label: `Question ${index + 1}`, name: `question-${index}`, value: question.text,
        attrs: { maxlength: 200, 'data-q': index } });
      text.control.addEventListener('input', () => { question.text = text.control.value; });
      const required = field({ label: 'Required', name: `required-${index}`, type: 'checkbox', value: question.required });
      required.control.addEventListener('change', () => { question.required = required.control.checked; });
      const move = (by, label) => h('button', { type: 'button', 'data-move': by, 'data-at': index,
        'aria-label': `${label}: question ${index + 1}`, disabled: index + by < 0 || index + by >= questions.length,
        onclick: () => {
          [questions[index], questions[index + by]] = [questions[index + by], questions[index]];
          // Keep focus on the same button, now one place along, so repeated presses keep moving it.
          render(`[data-move="${by}"][data-at="${index + by}"]`);
        } }, label);
      const remove = h('button', { type: 'button', class: 'danger', 'aria-label': `Remove question ${index + 1}`,
        onclick: () => {
          questions.splice(index, 1);
          render(questions.length ? `[data-q="${Math.min(index, questions.length - 1)}"]` : null);
        } }, 'Remove');
      return h('li', {}, text, h('div', { class: 'row' }, required, h('div', { class: 'actions' }, move(-1, 'Up'), move(1, 'Down'), remove)));
    }));
    add.disabled = questions.length >= MAX_QUESTIONS;
    count.textContent = questions.length === 0
      ? 'No questions: the join page asks only for a name, phone and address.'
      : `${names(questions.length, 'question', 'questions')} of at most ${MAX_QUESTIONS}.`;
    let target = focus ? list.querySelector(focus) : null;
    if (target?.disabled) target = target.closest('li').querySelector('input');
    (target ?? (focus === null ? add : null))?.focus();
  }

  add.addEventListener('click', () => {
    if (questions.length >= MAX_QUESTIONS) return;
    questions.push({ id: freshId(), text: '', required: false });
    render(`[data-q="${questions.length - 1}"]`);
  });

  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    saved.textContent = '';
    const blank = questions.findIndex((question) => !question.text.trim());
    if (blank >= 0) {
      showErrors(form, new ApiError(400, 'validation_failed', 'Write each question, or remove the empty one.',
        [{ field: `question-${blank}`, message: 'Write the question, or remove it.' }]));
      return;
    }
    await busy(submit, async () => {
      try {
        const body = { join_questions: questions.map(({ id, text, required }) => ({ id, text: text.trim(), required })) };
        const updated = await api(`neighborhoods/${ctx.id}`, { method: 'PATCH', body });
        questions = updated.join_questions.map((question) => ({ ...question, required: Boolean(question.required) }));
        await ctx.reloadNeighborhood();
        render();
        saved.textContent = `Saved at ${new Date().toLocaleTimeString()}.`;
      } catch (error) {
        showErrors(form, error);
      }
    });
  } }, h('p', { class: 'hint' }, 'The join page asks these beyond name, phone and address. Captains see the answers with each join request.'),
  h('div', { class: 'field' }, set, h('p', { class: 'field-error', hidden: true })),
  h('div', { class: 'actions' }, submit, saved));
  render();
  return section('questions', 'Join questions', form);
}

// ---- (c) captains and moderators, and handing over ----

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

function rolesSection(ctx) {
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

// ---- (d) API tokens ----

function tokensSection(ctx, whoIs, { canCreate = true } = {}) {
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

// ---- (e) archive ----

function archiveSection(ctx) {
  const neighborhood = ctx.neighborhood;
  const release = choices({ legend: 'Its phone number', name: 'release_number', value: 'keep', options: [
    ['keep', 'Keep the number', 'It stays in the Twilio account (and keeps costing its monthly rent) and can be given to a new neighborhood.'],
    ['release', 'Release the number', 'It goes back to Twilio and stops costing money. It cannot be recovered.'],
  ] });
  const farewell = field({ label: 'Farewell text (optional)', name: 'farewell', type: 'textarea',
    hint: `Texted to the whole group before it closes, signed “${neighborhood.name}:”.`, attrs: { maxlength: 1600 } });
  const confirm = field({ label: `Type “${neighborhood.name}” to confirm`, name: 'confirm_name', attrs: { autocomplete: 'off', spellcheck: 'false' } });
  const submit = h('button', { class: 'danger primary', type: 'submit' }, 'Archive neighborhood');
  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!same(confirm.control.value, ctx.neighborhood.name)) {
      showErrors(form, new ApiError(400, 'validation_failed', 'Not archived yet:',
        [{ field: 'confirm_name', message: `Type “${ctx.neighborhood.name}” exactly as shown.` }]));
      return;
    }
    await busy(submit, async () => {
      try {
        await api(`neighborhoods/${ctx.id}/archive`, { method: 'POST', body: {
          release_number: release.value() === 'release',
          farewell: farewell.control.value.trim() || undefined,
        } });
      } catch (error) {
        // A 502 means Twilio failed midway; the same request finishes the job.
        showErrors(form, error);
        return;
      }
      toast(`${ctx.neighborhood.name} is archived.`);
      await ctx.refreshMe();
      ctx.navigate(`#/n/${ctx.id}/settings`);
    });
  } }, release, farewell, confirm, h('div', { class: 'actions' }, submit));
  return h('section', { class: 'card danger-zone', id: 'archive', 'aria-labelledby': 'archive-heading' },
    h('h3', { id: 'archive-heading' }, 'Archive the neighborhood'),
    h('p', {}, 'Archiving ends the group text for good: its conversations at Twilio are closed, members stop receiving the group\'s texts, and nothing here can change any more. ',
      h('strong', {}, 'It cannot be undone.')),
    form);
}

// ---- (f) delete, once archived ----

function deleteSection(ctx) {
  const neighborhood = ctx.neighborhood;
  const confirm = field({ label: `Type “${neighborhood.name}” to confirm`, name: 'confirm_name', attrs: { autocomplete: 'off', spellcheck: 'false' } });
  const submit = h('button', { class: 'danger primary', type: 'submit' }, 'Delete everything');
  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    await busy(submit, async () => {
      try {
        // The API checks the typed name too, and answers with its own message when it differs.
        await api(`neighborhoods/${ctx.id}`, { method: 'DELETE', body: { confirm_name: confirm.control.value.trim() } });
      } catch (error) {
        showErrors(form, error);
        return;
      }
      toast(`${neighborhood.name} is deleted.`);
      await ctx.refreshMe();
      ctx.navigate('#/');
    });
  } }, confirm, h('div', { class: 'actions' }, submit));
  return h('section', { class: 'card danger-zone', id: 'delete', 'aria-labelledby': 'delete-heading' },
    h('h3', { id: 'delete-heading' }, 'Delete the neighborhood'),
    h('p', {}, 'Deleting removes its members, join requests, message history and audit log from this service, deletes its conversations at Twilio and releases its number unless another neighborhood uses it. ',
      h('strong', {}, 'Nothing can be recovered.')),
    form);
}

// ---- the tab ----

export default async function settings(container, ctx) {
  container.append(h('h2', { id: 'tab-heading' }, 'Settings'));
  const me = ctx.session.me;
  // Creators are recorded as "phone:+1...", "token:<id>" or "cli"; show them as people read them.
  const whoIs = (actor, tokenNames) => {
    if (actor?.startsWith('token:')) {
      const name = tokenNames.get(actor.slice(6));
      return name ? `the API token “${name}”` : 'an API token';
    }
    if (!actor?.startsWith('phone:')) return actor === 'cli' ? 'the command line' : (actor ?? 'someone');
    const phone = actor.slice(6);
    return phone === me.phone ? 'you' : phoneText(phone);
  };
  const archived = ctx.neighborhood.state === 'archived';
  const tokens = tokensSection(ctx, whoIs, { canCreate: !archived });

  if (archived) {
    container.append(
      h('p', { class: 'note' }, `${ctx.neighborhood.name} is archived: its group text has ended and its settings can no longer change. Its API tokens can still be revoked.`),
      tokens.node,
      ctx.role === 'owner' ? deleteSection(ctx) : null);
    await tokens.refresh();
    return undefined;
  }

  const roles = rolesSection(ctx);
  const owner = ctx.role === 'owner';
  const costs = budgetSection(ctx);
  const jump = [['neighborhood', 'Neighborhood'], ['quiet', 'Quiet hours'], ['costs', 'Costs and budget'], ['questions', 'Join questions'], ['catch-up', 'Catch-up'], ['roles', 'Captains and moderators'], ['tokens', 'API tokens']];
  if (owner) jump.push(['owner', 'Hand over'], ['archive', 'Archive']);
  container.append(
    h('nav', { class: 'jump', 'aria-label': 'Settings sections' }, h('ul', {}, jump.map(([id, label]) =>
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
    catchUpForm(ctx),
    roles.node,
    tokens.node,
    owner ? roles.handOver : null,
    owner ? archiveSection(ctx) : null,
  );
  await Promise.all([roles.refresh(), tokens.refresh(), costs.refresh()]);
  return ctx.live.on('member', roles.refresh);
}
