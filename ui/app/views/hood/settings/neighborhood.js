// The neighborhood itself (name, description, who posts, how neighbors join), its costs and
// monthly budget, and what new members get of the conversation so far.

import { api, errorText } from '../../../api.js';
import { h, field, clearErrors, showErrors, busy } from '../../../dom.js';
import { costText } from '../../../money.js';
import { choices, section } from './parts.js';

const MODES = [
  ['open', 'Everyone can post', 'Every member\'s text goes to the whole group.'],
  ['announce_only', 'Announcements only', 'Only captains post to the group. Members\' replies go privately to the captains.'],
];
const POLICIES = [
  ['approval', 'Captains approve', 'Anyone can ask on the join page or by texting JOIN; a captain approves each request.'],
  ['open', 'Open', 'Anyone who confirms their phone is in at once, without waiting for a captain.'],
  ['invite_only', 'Invite only', 'Only phones you text an invite to can ask to join; a captain still approves each request.'],
];

export function neighborhoodForm(ctx) {
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

export function budgetSection(ctx) {
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


const CATCH_UP = [
  ['off', 'Off', 'New members get the welcome text only.'],
  ['text', 'In one text', 'The latest messages follow the welcome text, as many as fit one text.'],
  ['link', 'As a link', 'A link to a page of the latest messages; it opens once, within 7 days.'],
];

export function catchUpForm(ctx) {
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
