// Messages: the group's history, newest first, arriving live; captains post announcements.

import { api, errorText } from '../../api.js';
import { h, field, when, showErrors, clearErrors, busy, toast, phoneText } from '../../dom.js';
import { coalesce } from '../../live.js';

const PAGE = 50;

function item(message) {
  // As the group saw it: the sender's name in front of the text.
  return h('li', { 'data-message': message.id },
    h('p', { class: 'body' }, h('strong', {}, `${message.sender_name ?? 'Someone'}: `), message.body),
    h('p', { class: 'meta' }, h('time', { datetime: message.at }, when(message.at))));
}

function announcementForm(ctx) {
  const body = field({
    label: 'Announcement to everyone', name: 'body', type: 'textarea', required: true,
    hint: `Texted to the whole group from ${phoneText(ctx.neighborhood.phone_number)}, signed with your name.`,
    attrs: { maxlength: 1600 },
  });
  const send = h('button', { class: 'primary', type: 'submit' }, 'Send to everyone');
  const form = h('form', { class: 'card', novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    await busy(send, async () => {
      try {
        await api(`neighborhoods/${ctx.id}/messages`, { method: 'POST', body: { body: body.control.value } });
        body.control.value = '';
        toast('Announcement sent to the group.');
      } catch (error) {
        showErrors(form, error);
      }
    });
  } }, body, h('div', { class: 'actions' }, send));
  return form;
}

export default async function messages(container, ctx) {
  const search = field({ label: 'Search messages', name: 'q', type: 'search', attrs: { autocomplete: 'off' } });
  const status = h('p', { class: 'empty', role: 'status' });
  const list = h('ol', { class: 'messages', 'aria-live': 'polite', 'aria-label': 'Messages, newest first' });
  const older = h('button', { type: 'button', hidden: true }, 'Show older messages');
  container.append(
    h('h2', { id: 'tab-heading' }, 'Messages'),
    ctx.atLeast('captain') ? announcementForm(ctx) : null,
    h('div', { class: 'filters', role: 'search' }, search),
    status, list, older,
  );

  let nextBefore = null;
  const showPage = (page, append) => {
    const nodes = page.items.map(item);
    if (append) list.append(...nodes);
    else list.replaceChildren(...nodes);
    nextBefore = page.next_before ?? null;
    older.hidden = !nextBefore;
    const empty = list.children.length === 0;
    status.hidden = !empty;
    status.textContent = empty ? (search.control.value.trim() ? 'No message matches.' : 'No messages yet.') : '';
  };

  // New messages reload the newest page; older pages already shown stay below it.
  const refresh = coalesce(async () => {
    try {
      const page = await api(`neighborhoods/${ctx.id}/messages`, { query: { q: search.control.value.trim(), limit: PAGE } });
      if (!older.hidden && list.children.length > PAGE) {
        const known = new Set([...list.children].map((node) => node.dataset.message));
        list.prepend(...page.items.filter((message) => !known.has(message.id)).map(item));
      } else {
        showPage(page, false);
      }
    } catch (error) {
      status.hidden = false;
      status.replaceChildren(h('span', { class: 'alert', role: 'alert' }, errorText(error)));
    }
  });
  older.addEventListener('click', () => busy(older, async () => {
    try {
      showPage(await api(`neighborhoods/${ctx.id}/messages`, { query: { q: search.control.value.trim(), before: nextBefore, limit: PAGE } }), true);
    } catch (error) {
      toast(errorText(error), { error: true });
    }
  }));
  let typing = null;
  search.control.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      list.replaceChildren();
      refresh();
    }, 250);
  });
  await refresh();
  const stop = ctx.live.on('message', refresh);
  return () => {
    clearTimeout(typing);
    stop();
  };
}
