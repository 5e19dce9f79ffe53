// How this captain hears about new join requests (Settings): a text for each, a digest at most
// every 15 minutes or every hour, or none. Saved on the captain's own member record through
// PATCH /members/{id} (`join_request_notices`).

import { api } from '../../../api.js';
import { h, clearErrors, showErrors, busy } from '../../../dom.js';
import { choices, section } from './parts.js';

const OPTIONS = [
  ['each', 'A text for each request', 'As soon as each neighbor asks. Busy weeks can mean many texts.'],
  ['every_15_minutes', 'A digest at most every 15 minutes', 'One text naming the requests waiting, like “5 new join requests: …”.'],
  ['hourly', 'A digest at most every hour', 'The same, at most once an hour.'],
  ['never', 'No texts', 'Check this page, or text #pending to the number.'],
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
  const node = section('notices', 'Join request texts');
  const refresh = async () => {
    const me = await myMember(ctx);
    if (!me) {
      node.append(h('p', { class: 'hint' }, 'You are not a captain of this neighborhood, so no join request texts reach you.'));
      return;
    }
    const how = choices({ legend: 'When a neighbor asks to join, text me', name: 'join_request_notices', value: me.join_request_notices, options: OPTIONS });
    const saved = h('p', { class: 'hint', role: 'status' });
    const submit = h('button', { class: 'primary', type: 'submit' }, 'Save join request texts');
    const form = h('form', { novalidate: true, onsubmit: async (event) => {
      event.preventDefault();
      clearErrors(form);
      saved.textContent = '';
      await busy(submit, async () => {
        try {
          const updated = await api(`neighborhoods/${ctx.id}/members/${me.id}`, { method: 'PATCH', body: { join_request_notices: how.value() } });
          saved.textContent = `Saved: ${OPTIONS.find(([value]) => value === updated.join_request_notices)?.[1] ?? updated.join_request_notices}.`;
        } catch (error) {
          showErrors(form, error);
        }
      });
    } }, how, h('div', { class: 'actions' }, submit), saved);
    node.append(form);
  };
  return { node, refresh };
}
