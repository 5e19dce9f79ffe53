// Changing many members at once: the bar that appears once rows are ticked, the confirmation a
// removal needs (a real modal <dialog>), and one toast with the outcome.

import { api, errorText } from '../../../api.js';
import { h, field, toast, busy, uid } from '../../../dom.js';

const CHOICES = [
  ['pause', 'Pause texts'],
  ['resume', 'Resume texts'],
  ['role:member', 'Make member'],
  ['role:moderator', 'Make moderator'],
  ['role:captain', 'Make captain'],
  ['remove', 'Remove from the group'],
];
const DONE = {
  pause: 'Paused',
  resume: 'Resumed',
  remove: 'Removed',
  set_role: 'Changed the role of',
};

const plural = (count, one, many) => `${count} ${count === 1 ? one : many}`;

/** A modal asking to confirm `question`; resolves true when confirmed. */
function confirm(host, { title, text, yes }) {
  const titleId = uid('confirm');
  const textId = uid('confirm-text');
  const form = h('form', { method: 'dialog' },
    h('h2', { id: titleId }, title),
    h('p', { id: textId }, text),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', value: 'cancel' }, 'Cancel'),
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
  return `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`;
}

/** The outcome in one sentence: what was done, and what was skipped and why. */
function outcomeText(kind, role, result, nameOf) {
  const verb = DONE[kind];
  const done = result.done
    ? `${verb} ${plural(result.done, 'member', 'members')}${role ? ` to ${role}` : ''}.`
    : 'No member was changed.';
  const skipped = result.results.filter((item) => item.outcome === 'skipped');
  if (skipped.length === 0) return done;
  const reasons = [...new Set(skipped.map((item) => item.reason))];
  const who = someNames(skipped.map((item) => nameOf(item.member_id)));
  return `${done} Skipped ${plural(skipped.length, 'member', 'members')} (${who}): ${reasons.slice(0, 2).join(' ')}`;
}

/**
 * The bulk bar. `selection` is { ids(), clear() }, `nameOf(id)` a shown member's name,
 * `changed()` reloads the list after a change, and `focusAway()` moves focus somewhere sensible
 * when the bar hides under it.
 */
export function bulkBar(ctx, { selection, nameOf, changed, focusAway }) {
  const count = h('p', { class: 'bulk-count', role: 'status' });
  const choice = field({ label: 'Change the selected', name: 'bulk-action', type: 'select', value: 'pause', options: CHOICES });
  const apply = h('button', { type: 'button', class: 'primary' }, 'Apply');
  const clear = h('button', { type: 'button' }, 'Clear selection');
  const bar = h('div', { class: 'bulk-bar', role: 'region', 'aria-label': 'Selected members', hidden: true },
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
      const many = plural(ids.length, 'member', 'members');
      const sure = await confirm(bar.parentElement ?? document.body, {
        title: `Remove ${many}?`,
        text: `${someNames(names)} will be taken out of the group text and listed as removed. They get no text about it. To come back, they ask to join again.`,
        yes: `Remove ${many}`,
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
    count.textContent = `${plural(selected, 'member', 'members')} selected`;
    apply.textContent = `Apply to ${plural(selected, 'member', 'members')}`;
  };
  return bar;
}
