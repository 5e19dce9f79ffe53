// The join questions the join page asks beyond name, phone and address: add, reword, reorder,
// remove, then save them together.

import { api, ApiError } from '../../../api.js';
import { h, field, clearErrors, showErrors, busy } from '../../../dom.js';
import { section } from './parts.js';
import { t, tCount } from '../../../i18n.js';

const MAX_QUESTIONS = 10;

export function questionsForm(ctx) {
  let questions = ctx.neighborhood.join_questions.map((question) => ({ ...question, required: Boolean(question.required) }));
  const list = h('ol', { class: 'questions' });
  const add = h('button', { type: 'button' }, t('app-questions-add'));
  const count = h('p', { class: 'hint', 'aria-live': 'polite' });
  const saved = h('p', { class: 'hint', role: 'status' });
  const submit = h('button', { class: 'primary', type: 'submit' }, t('app-questions-save'));
  const set = h('fieldset', { class: 'bare', name: 'join_questions', tabindex: '-1' },
    h('legend', { class: 'vh' }, t('app-questions-title')), list, count, h('div', { class: 'actions' }, add));

  // The join form sends answers keyed by id, and ids must be unique: new ones take the first free qN.
  const freshId = () => {
    let n = 1;
    while (questions.some((question) => question.id === `q${n}`)) n += 1;
    return `q${n}`;
  };

  function render(focus) {
    list.replaceChildren(...questions.map((question, index) => {
      const text = field({ label: t('app-questions-question', { number: index + 1 }), name: `question-${index}`, value: question.text,
        attrs: { maxlength: 200, 'data-q': index } });
      text.control.addEventListener('input', () => { question.text = text.control.value; });
      const required = field({ label: t('app-questions-required'), name: `required-${index}`, type: 'checkbox', value: question.required });
      required.control.addEventListener('change', () => { question.required = required.control.checked; });
      const move = (by, label) => h('button', { type: 'button', 'data-move': by, 'data-at': index,
        'aria-label': t('app-questions-move-label', { move: label, number: index + 1 }),
        disabled: index + by < 0 || index + by >= questions.length,
        onclick: () => {
          [questions[index], questions[index + by]] = [questions[index + by], questions[index]];
          // Keep focus on the same button, now one place along, so repeated presses keep moving it.
          render(`[data-move="${by}"][data-at="${index + by}"]`);
        } }, label);
      const remove = h('button', { type: 'button', class: 'danger', 'aria-label': t('app-questions-remove-label', { number: index + 1 }),
        onclick: () => {
          questions.splice(index, 1);
          render(questions.length ? `[data-q="${Math.min(index, questions.length - 1)}"]` : null);
        } }, t('app-questions-remove'));
      return h('li', {}, text, h('div', { class: 'row' }, required,
        h('div', { class: 'actions' }, move(-1, t('app-questions-up')), move(1, t('app-questions-down')), remove)));
    }));
    add.disabled = questions.length >= MAX_QUESTIONS;
    count.textContent = questions.length === 0
      ? t('app-questions-none')
      : tCount(questions.length, 'app-questions-count-one', 'app-questions-count-other', { max: MAX_QUESTIONS });
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
      showErrors(form, new ApiError(400, 'validation_failed', t('app-questions-blank'),
        [{ field: `question-${blank}`, message: t('app-questions-blank-field') }]));
      return;
    }
    await busy(submit, async () => {
      try {
        const body = { join_questions: questions.map(({ id, text, required }) => ({ id, text: text.trim(), required })) };
        const updated = await api(`neighborhoods/${ctx.id}`, { method: 'PATCH', body });
        questions = updated.join_questions.map((question) => ({ ...question, required: Boolean(question.required) }));
        await ctx.reloadNeighborhood();
        render();
        saved.textContent = t('app-settings-saved-at', { time: new Date().toLocaleTimeString() });
      } catch (error) {
        showErrors(form, error);
      }
    });
  } }, h('p', { class: 'hint' }, t('app-questions-hint')),
  h('div', { class: 'field' }, set, h('p', { class: 'field-error', hidden: true })),
  h('div', { class: 'actions' }, submit, saved));
  render();
  return section('questions', t('app-questions-title'), form);
}
