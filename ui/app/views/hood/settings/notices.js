// How this captain hears about new join requests (Settings): a text for each, a digest at most
// every 15 minutes or every hour, or none. Saved on the captain's own member record through
// PATCH /members/{id} (`join_request_notices`).

import { api } from '../../../api.js';
import { h, clearErrors, showErrors, busy } from '../../../dom.js';
import { choices, section } from './parts.js';
import { t } from '../../../i18n.js';

/** [value, label, explanation], as message ids. */
const OPTIONS = [
  ['each', 'app-notices-each', 'app-notices-each-hint'],
  ['every_15_minutes', 'app-notices-15-minutes', 'app-notices-15-minutes-hint'],
  ['hourly', 'app-notices-hourly', 'app-notices-hourly-hint'],
  ['never', 'app-notices-never', 'app-notices-never-hint'],
];

/** The signed-in captain's own member record here, if they are one. */
async function myMember(ctx) {
  const phone = ctx.session.me.phone;
  if (!phone) return null;
  let after;
  do {
    const page = await api(`neighborhoods/${ctx.id}/members`, { query: { after, limit: 500 } });
    const mine = page.items.find((member) => member.phone === phone && ['captain', 'owner'].includes(member.role));
    if (mine) return mine;
    after = page.next_after;
  } while (after);
  return null;
}

export function noticesSection(ctx) {
  const node = section('notices', t('app-notices-title'));
  const refresh = async () => {
    const me = await myMember(ctx);
    if (!me) {
      node.append(h('p', { class: 'hint' }, t('app-notices-not-captain')));
      return;
    }
    const how = choices({ legend: t('app-notices-legend'), name: 'join_request_notices', value: me.join_request_notices,
      options: OPTIONS.map(([value, label, hint]) => [value, t(label), t(hint)]) });
    const saved = h('p', { class: 'hint', role: 'status' });
    const submit = h('button', { class: 'primary', type: 'submit' }, t('app-notices-save'));
    const form = h('form', { novalidate: true, onsubmit: async (event) => {
      event.preventDefault();
      clearErrors(form);
      saved.textContent = '';
      await busy(submit, async () => {
        try {
          const updated = await api(`neighborhoods/${ctx.id}/members/${me.id}`, { method: 'PATCH', body: { join_request_notices: how.value() } });
          const chosen = OPTIONS.find(([value]) => value === updated.join_request_notices)?.[1];
          saved.textContent = t('app-notices-saved', { choice: chosen ? t(chosen) : updated.join_request_notices });
        } catch (error) {
          showErrors(form, error);
        }
      });
    } }, how, h('div', { class: 'actions' }, submit), saved);
    node.append(form);
  };
  return { node, refresh };
}
