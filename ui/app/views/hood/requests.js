// Join requests: newest first, one tap to approve or deny, with everything the asker told us.

import { api, errorText } from '../../api.js';
import { h, field, when, phoneText, toast } from '../../dom.js';
import { coalesce } from '../../live.js';

const CHANNELS = {
  web: 'Asked on the join page',
  sms: 'Texted the number',
  invite: 'Came through an invite',
  import: 'Imported',
  captain: 'Added by a captain',
};

const STATES = [
  ['pending', 'Waiting for a decision'],
  ['pending_verification', 'Waiting for their phone code'],
  ['approved', 'Approved'],
  ['denied', 'Denied'],
];

/** "phone:+15550000001" as people read it; tokens and the system by what they are. */
function actorText(actor) {
  const [kind, value] = actor.split(/:(.*)/s);
  if (kind === 'phone') return phoneText(value);
  if (kind === 'token') return 'an API token';
  if (kind === 'policy') return 'the open join policy';
  return actor;
}

function answersList(request, questions) {
  const entries = Object.entries(request.answers ?? {});
  if (entries.length === 0) return [];
  const textOf = (id) => questions.find((question) => question.id === id)?.text ?? id;
  return entries.flatMap(([id, answer]) => [h('dt', {}, textOf(id)), h('dd', {}, answer)]);
}

export default async function requests(container, ctx) {
  const canDecide = ctx.atLeast('captain');
  const show = field({ label: 'Show', name: 'state', type: 'select', value: 'pending', options: STATES });
  const list = h('ul', { class: 'list', 'aria-live': 'polite' });
  const status = h('p', { class: 'empty', role: 'status' });
  const approveAll = h('button', { class: 'primary', type: 'button', hidden: true });
  const batchOutcome = h('div', { role: 'status' });
  let pending = [];
  container.append(
    h('h2', { id: 'tab-heading' }, 'Join requests'),
    h('div', { class: 'filters' }, show, approveAll),
    batchOutcome,
    status,
    list,
  );

  // A street's worth of requests at once (an import, a flyer at a block party), oldest first,
  // at most the 1,000 one call takes.
  approveAll.addEventListener('click', async () => {
    const batch = [...pending].sort((a, b) => (a.created_at < b.created_at ? -1 : 1)).slice(0, 1000);
    if (!window.confirm(`Approve ${batch.length} neighbors? Each gets a welcome text.`)) return;
    approveAll.disabled = true;
    approveAll.setAttribute('aria-busy', 'true');
    try {
      const out = await api(`neighborhoods/${ctx.id}/join-requests/approve`, {
        method: 'POST',
        body: { request_ids: batch.map((request) => request.id) },
      });
      const refused = out.refused.length ? ` ${out.refused.length} could not be: ${out.refused[0].error.message}` : '';
      toast(`${out.approved.length} approved; each gets a welcome text.${refused}`);
      batchOutcome.replaceChildren();
      await refresh();
      ctx.refreshCount();
    } catch (error) {
      batchOutcome.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorText(error)));
    } finally {
      approveAll.disabled = false;
      approveAll.removeAttribute('aria-busy');
    }
  });

  function item(request) {
    const outcome = h('div', { role: 'status' });
    const decide = async (action, button) => {
      for (const other of buttons) other.disabled = true;
      button.setAttribute('aria-busy', 'true');
      try {
        await api(`neighborhoods/${ctx.id}/join-requests/${request.id}/${action}`, { method: 'POST' });
        toast(action === 'approve'
          ? `${request.name} is approved and gets a welcome text.`
          : `${request.name}'s request is denied.`);
        await refresh();
        ctx.refreshCount();
      } catch (error) {
        outcome.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorText(error)));
        for (const other of buttons) other.disabled = false;
        button.removeAttribute('aria-busy');
      }
    };
    const approve = h('button', { class: 'primary', type: 'button', 'aria-label': `Approve ${request.name}` }, 'Approve');
    const deny = h('button', { class: 'danger', type: 'button', 'aria-label': `Deny ${request.name}` }, 'Deny');
    approve.addEventListener('click', () => decide('approve', approve));
    deny.addEventListener('click', () => decide('deny', deny));
    // Blocking refuses this phone's requests from now on, without a text to the captains each time.
    const block = request.phone
      ? h('button', { type: 'button', 'aria-label': `Block ${request.name}'s phone` }, 'Block')
      : null;
    block?.addEventListener('click', async () => {
      if (!window.confirm(`Block ${phoneText(request.phone)}? Its requests to join will be refused from now on, and captains will not be told.`)) return;
      try {
        await api(`neighborhoods/${ctx.id}/blocked-phones`, { method: 'POST', body: { phone: request.phone } });
      } catch (error) {
        outcome.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorText(error)));
        return;
      }
      await decide('deny', block);
    });
    const buttons = [approve, deny, block].filter(Boolean);
    const facts = h('dl', { class: 'facts' },
      request.phone ? [h('dt', {}, 'Phone'), h('dd', {}, phoneText(request.phone))] : null,
      request.address ? [h('dt', {}, 'Address'), h('dd', {}, request.address)] : null,
      h('dt', {}, 'How'), h('dd', {}, CHANNELS[request.channel] ?? request.channel),
      h('dt', {}, 'Asked'), h('dd', {}, when(request.created_at)),
      answersList(request, ctx.neighborhood.join_questions ?? []),
      request.previously ? [h('dt', {}, 'Before'), h('dd', {}, h('strong', {}, request.previously))] : null,
      request.decided_by ? [h('dt', {}, 'Decided'), h('dd', {}, `${when(request.decided_at)} by ${actorText(request.decided_by)}`)] : null,
    );
    return h('li', { 'data-request': request.id },
      h('div', { class: 'row' }, h('h3', {}, `#${request.number} ${request.name}`),
        request.state === 'pending' && canDecide ? h('div', { class: 'actions' }, approve, deny, block) : null),
      facts, outcome);
  }

  const refresh = coalesce(async () => {
    const state = show.control.value;
    try {
      const page = await api(`neighborhoods/${ctx.id}/join-requests`, { query: { state } });
      const items = [...page.items].sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
      list.replaceChildren(...items.map(item));
      pending = state === 'pending' && canDecide ? items : [];
      approveAll.hidden = pending.length < 2;
      approveAll.textContent = `Approve all ${Math.min(pending.length, 1000)}`;
      status.textContent = items.length ? '' : 'Nothing here.';
      status.hidden = items.length > 0;
    } catch (error) {
      status.hidden = false;
      status.replaceChildren(h('span', { class: 'alert', role: 'alert' }, errorText(error)));
    }
  });
  show.control.addEventListener('change', refresh);
  await refresh();
  return ctx.live.on('join_request', refresh);
}
