// The neighborhood itself (name, description, who posts, how neighbors join), its costs and
// monthly budget, and what new members get of the conversation so far.

import { api, errorText } from '../../../api.js';
import { h, field, clearErrors, showErrors, busy } from '../../../dom.js';
import { costText } from '../../../money.js';
import { choices, section } from './parts.js';
import { t } from '../../../i18n.js';

/** Radio choices as [value, label, explanation], the words message ids. */
const MODES = [
  ['open', 'app-neighborhood-mode-open', 'app-neighborhood-mode-open-hint'],
  ['announce_only', 'app-neighborhood-mode-announce', 'app-neighborhood-mode-announce-hint'],
];
const POLICIES = [
  ['approval', 'app-neighborhood-policy-approval', 'app-neighborhood-policy-approval-hint'],
  ['open', 'app-neighborhood-policy-open', 'app-neighborhood-policy-open-hint'],
  ['invite_only', 'app-neighborhood-policy-invite', 'app-neighborhood-policy-invite-hint'],
];
const CATCH_UP = [
  ['off', 'app-catch-up-off', 'app-catch-up-off-hint'],
  ['text', 'app-catch-up-text', 'app-catch-up-text-hint'],
  ['link', 'app-catch-up-link', 'app-catch-up-link-hint'],
];
const options = (list) => list.map(([value, label, hint]) => [value, t(label), t(hint)]);
const savedAt = () => t('app-settings-saved-at', { time: new Date().toLocaleTimeString() });

export function neighborhoodForm(ctx) {
  const current = ctx.neighborhood;
  const name = field({ label: t('app-neighborhood-name'), name: 'name', value: current.name, required: true,
    hint: t('app-neighborhood-name-hint'),
    attrs: { maxlength: 80 } });
  const description = field({ label: t('app-neighborhood-description'), name: 'description', type: 'textarea', value: current.description,
    hint: t('app-neighborhood-description-hint'), attrs: { maxlength: 500, rows: 3 } });
  const mode = choices({ legend: t('app-neighborhood-mode'), name: 'mode', value: current.mode, options: options(MODES) });
  const policy = choices({ legend: t('app-neighborhood-policy'), name: 'join_policy', value: current.join_policy, options: options(POLICIES) });
  const saved = h('p', { class: 'hint', role: 'status' });
  const submit = h('button', { class: 'primary', type: 'submit' }, t('app-neighborhood-save'));
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
      saved.textContent = t('app-settings-unchanged');
      return;
    }
    await busy(submit, async () => {
      try {
        await api(`neighborhoods/${ctx.id}`, { method: 'PATCH', body });
        await ctx.reloadNeighborhood();
        saved.textContent = savedAt();
      } catch (error) {
        showErrors(form, error);
      }
    });
  } }, name, description, mode, policy, h('div', { class: 'actions' }, submit, saved));
  return section('neighborhood', t('app-neighborhood-title'), form);
}

export function budgetSection(ctx) {
  const now = h('p', {}, t('app-budget-loading'));
  const budget = field({ label: t('app-budget'), name: 'monthly_budget', value: ctx.neighborhood.monthly_budget ?? '',
    hint: t('app-budget-hint'),
    attrs: { inputmode: 'decimal', autocomplete: 'off' } });
  const saved = h('p', { class: 'hint', role: 'status' });
  const submit = h('button', { class: 'primary', type: 'submit' }, t('app-budget-save'));
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
        saved.textContent = savedAt();
      } catch (error) {
        showErrors(form, error);
      }
    });
  } }, budget, h('div', { class: 'actions' }, submit, saved));
  return { node: section('costs', t('app-budget-title'), now, form), refresh };
}

export function catchUpForm(ctx) {
  const current = ctx.neighborhood.catch_up;
  const mode = choices({ legend: t('app-catch-up-mode'), name: 'catch_up.mode', value: current.mode, options: options(CATCH_UP) });
  const messages = field({ label: t('app-catch-up-messages'), name: 'catch_up.messages', type: 'number', value: String(current.messages),
    hint: t('app-catch-up-messages-hint'), attrs: { min: 1, max: 20, inputmode: 'numeric' } });
  const saved = h('p', { class: 'hint', role: 'status' });
  const submit = h('button', { class: 'primary', type: 'submit' }, t('app-catch-up-save'));
  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    saved.textContent = '';
    await busy(submit, async () => {
      try {
        await api(`neighborhoods/${ctx.id}`, { method: 'PATCH', body: { catch_up: { mode: mode.value(), messages: Number(messages.control.value) } } });
        await ctx.reloadNeighborhood();
        saved.textContent = savedAt();
      } catch (error) {
        showErrors(form, error);
      }
    });
  } }, mode, messages, h('div', { class: 'actions' }, submit, saved));
  return section('catch-up', t('app-catch-up-title'), h('p', { class: 'hint' }, t('app-catch-up-hint')), form);
}
