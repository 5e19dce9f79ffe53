// Changing many members at once: the bar that appears once rows are ticked, the confirmation a
// removal needs (a real modal <dialog>), and one toast with the outcome.

import { api, errorText } from '../../../api.js';
import { h, field, toast, busy, uid } from '../../../dom.js';
import { t, tCount } from '../../../i18n.js';

const CHOICES = [
  ['pause', 'app-bulk-pause'],
  ['resume', 'app-bulk-resume'],
  ['role:member', 'app-bulk-make-member'],
  ['role:moderator', 'app-bulk-make-moderator'],
  ['role:captain', 'app-bulk-make-captain'],
  ['remove', 'app-bulk-remove'],
];
/** What was done, as [one, other] message ids by how many members it was done to. */
const DONE = {
  pause: ['app-bulk-paused-one', 'app-bulk-paused-other'],
  resume: ['app-bulk-resumed-one', 'app-bulk-resumed-other'],
  remove: ['app-bulk-removed-one', 'app-bulk-removed-other'],
  set_role: ['app-bulk-role-set-one', 'app-bulk-role-set-other'],
};

const members = (count) => tCount(count, 'app-bulk-members-one', 'app-bulk-members-other');

/** A modal asking to confirm `question`; resolves true when confirmed. */
function confirm(host, { title, text, yes }) {
  const titleId = uid('confirm');
  const textId = uid('confirm-text');
  const form = h('form', { method: 'dialog' },
    h('h2', { id: titleId }, title),
    h('p', { id: textId }, text),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', value: 'cancel' }, t('app-bulk-cancel')),
      h('button', { type: 'submit', value: 'confirm', class: 'danger primary' }, yes)));
  const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': titleId, 'aria-describedby': textId }, form);
  host.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'confirm');
      dialog.remove();
    }, { once: true });
    dialog.showModal();
  });
}

/** "Ana, Ben, Cy and 7 more". */
function someNames(names) {
  if (names.length <= 3) return names.join(', ');
  return t('app-bulk-names-more', { names: names.slice(0, 3).join(', '), count: names.length - 3 });
}

/** The outcome in one sentence: what was done, and what was skipped and why. */
function outcomeText(kind, role, result, nameOf) {
  const [one, other] = DONE[kind];
  const done = result.done
    ? tCount(result.done, one, other, { role })
    : t('app-bulk-none-changed');
  const skipped = result.results.filter((item) => item.outcome === 'skipped');
  if (skipped.length === 0) return done;
  const reasons = [...new Set(skipped.map((item) => item.reason))];
  const who = someNames(skipped.map((item) => nameOf(item.member_id)));
  // The reasons are the API's own sentences.
  return tCount(skipped.length, 'app-bulk-skipped-one', 'app-bulk-skipped-other', {
    done, names: who, reasons: reasons.slice(0, 2).join(' '),
  });
}

/**
 * The bulk bar. `selection` is { ids(), clear() }, `nameOf(id)` a shown member's name,
 * `changed()` reloads the list after a change, and `focusAway()` moves focus somewhere sensible
 * when the bar hides under it.
 */
export function bulkBar(ctx, { selection, nameOf, changed, focusAway }) {
  const count = h('p', { class: 'bulk-count', role: 'status' });
  const choice = field({ label: t('app-bulk-change'), name: 'bulk-action', type: 'select', value: 'pause',
    options: CHOICES.map(([value, id]) => [value, t(id)]) });
  const apply = h('button', { type: 'button', class: 'primary' }, t('app-bulk-apply'));
  const clear = h('button', { type: 'button' }, t('app-bulk-clear'));
  const bar = h('div', { class: 'bulk-bar', role: 'region', 'aria-label': t('app-bulk-label'), hidden: true },
    count, h('div', { class: 'filters' }, choice, apply, clear));

  clear.addEventListener('click', () => {
    selection.clear();
    focusAway();
  });
  apply.addEventListener('click', () => busy(apply, async () => {
    const ids = selection.ids();
    if (ids.length === 0) return;
    const [kind, role] = choice.control.value.startsWith('role:')
      ? ['set_role', choice.control.value.slice(5)]
      : [choice.control.value, undefined];
    if (kind === 'remove') {
      const names = ids.map(nameOf);
      const many = members(ids.length);
      const sure = await confirm(bar.parentElement ?? document.body, {
        title: t('app-bulk-remove-title', { members: many }),
        text: t('app-bulk-remove-text', { names: someNames(names) }),
        yes: t('app-bulk-remove-yes', { members: many }),
      });
      apply.focus();
      if (!sure) return;
    }
    try {
      const result = await api(`neighborhoods/${ctx.id}/members/bulk`, {
        method: 'POST',
        body: { member_ids: ids, action: kind, ...(role ? { role } : {}) },
      });
      const message = outcomeText(kind, role, result, nameOf);
      selection.clear();
      await changed();
      focusAway();
      toast(message);
    } catch (error) {
      toast(errorText(error), { error: true });
    }
  }));

  /** Shows how many are selected (the bar hides when none are). */
  bar.update = (selected) => {
    bar.hidden = selected === 0;
    count.textContent = tCount(selected, 'app-bulk-selected-one', 'app-bulk-selected-other');
    apply.textContent = t('app-bulk-apply-to', { members: members(selected) });
  };
  return bar;
}
