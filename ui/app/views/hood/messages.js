// Messages: the group's history, newest first, arriving live; captains write announcements in
// the composer (composer.js) and see the scheduled ones with edit and cancel.

import { api, errorText } from '../../api.js';
import { h, field, when, showErrors, clearErrors, busy, toast } from '../../dom.js';
import { coalesce } from '../../live.js';
import { composer } from './composer.js';

const PAGE = 50;

function item(message) {
  // As the group saw it: the sender's name in front of the text; an announcement to some
  // neighbors says to whom.
  return h('li', { 'data-message': message.id },
    h('p', { class: 'body' }, h('strong', {}, `${message.sender_name ?? 'Someone'}: `), message.body),
    h('p', { class: 'meta' }, h('time', { datetime: message.at }, when(message.at)),
      message.audience ? ` · ${message.audience}` : ''));
}

// ---- scheduled announcements, with edit and cancel ----

/** A datetime-local value ("2026-12-24T18:00") as RFC 3339 in the browser's own zone. */
function sendAtFromLocal(value) {
  if (!value) return undefined;
  const at = new Date(value);
  // An unreadable value goes to the API as typed, so its field error explains it.
  return Number.isNaN(at.getTime()) ? value : at.toISOString();
}

/** RFC 3339 as a datetime-local value, in the browser's own zone. */
function localFromIso(iso) {
  const at = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

/** " · to Elm Ave", " · to captains", " · to 3 chosen people"; nothing for everyone. */
function audienceText(audience) {
  switch (audience?.kind) {
    case 'streets': return ` · to ${audience.streets.join(', ')}`;
    case 'roles': return ` · to ${audience.roles.map((role) => `${role}s`).join(', ')}`;
    case 'members': return ` · to ${audience.member_ids.length} chosen ${audience.member_ids.length === 1 ? 'person' : 'people'}`;
    default: return '';
  }
}

function whenText(announcement) {
  const at = when(announcement.scheduled_for);
  return announcement.waits_for_quiet_hours ? `Goes out ${at}, after quiet hours` : `Goes out ${at}`;
}

/** One scheduled announcement's edit form, in place of its row. */
function editForm(ctx, announcement, done) {
  const body = field({ label: 'Text', name: 'body', type: 'textarea', value: announcement.body, required: true,
    attrs: { maxlength: 1600 } });
  const sendAt = field({ label: 'Send at', name: 'send_at', type: 'datetime-local', value: localFromIso(announcement.send_at),
    hint: 'Your local time.' });
  const urgent = field({ label: 'Urgent (ignore quiet hours)', name: 'urgent', type: 'checkbox', value: announcement.urgent });
  const save = h('button', { class: 'primary', type: 'submit' }, 'Save');
  const back = h('button', { type: 'button', onclick: () => done(false) }, 'Back');
  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    const changes = {};
    if (body.control.value.trim() !== announcement.body) changes.body = body.control.value;
    if (sendAt.control.value !== localFromIso(announcement.send_at)) changes.send_at = sendAtFromLocal(sendAt.control.value) ?? '';
    if (urgent.control.checked !== announcement.urgent) changes.urgent = urgent.control.checked;
    await busy(save, async () => {
      try {
        await api(`neighborhoods/${ctx.id}/announcements/${announcement.id}`, { method: 'PATCH', body: changes });
        toast('Scheduled announcement saved.');
        done(true);
      } catch (error) {
        showErrors(form, error);
      }
    });
  } }, body, sendAt, urgent, h('div', { class: 'actions' }, save, back));
  return form;
}

function scheduledSection(ctx) {
  const list = h('ol', { class: 'messages', 'aria-label': 'Scheduled announcements, soonest first' });
  const node = h('section', { class: 'card', 'aria-labelledby': 'scheduled-heading', hidden: true },
    h('h3', { id: 'scheduled-heading' }, 'Scheduled'), list);

  const row = (announcement) => {
    const li = h('li', { 'data-announcement': announcement.id });
    const show = () => li.replaceChildren(
      h('p', { class: 'body' }, h('strong', {}, `${announcement.signed_as}: `), announcement.body),
      h('p', { class: 'meta' }, h('time', { datetime: announcement.scheduled_for }, whenText(announcement)),
        announcement.urgent ? ' · urgent' : '', audienceText(announcement.audience)),
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => {
          li.replaceChildren(editForm(ctx, announcement, (changed) => {
            show();
            if (changed) refresh();
          }));
          li.querySelector('textarea')?.focus();
        } }, 'Edit'),
        h('button', { type: 'button', class: 'danger', onclick: async (event) => {
          if (!window.confirm('Cancel this announcement? It will not be sent.')) return;
          await busy(event.currentTarget, async () => {
            try {
              await api(`neighborhoods/${ctx.id}/announcements/${announcement.id}`, { method: 'DELETE' });
              toast('Announcement cancelled.');
              await refresh();
            } catch (error) {
              toast(errorText(error), { error: true });
              await refresh();
            }
          });
        } }, 'Cancel announcement')));
    show();
    return li;
  };

  const refresh = coalesce(async () => {
    try {
      const page = await api(`neighborhoods/${ctx.id}/announcements`, { query: { state: 'scheduled', limit: 200 } });
      const items = [...page.items].sort((a, b) => a.scheduled_for.localeCompare(b.scheduled_for));
      // An open edit form stays open while others change.
      if (list.querySelector('form')) return;
      list.replaceChildren(...items.map(row));
      node.hidden = items.length === 0;
    } catch (error) {
      node.hidden = false;
      list.replaceChildren(h('li', { class: 'alert', role: 'alert' }, errorText(error)));
    }
  });
  return { node, refresh };
}

export default async function messages(container, ctx) {
  const search = field({ label: 'Search messages', name: 'q', type: 'search', attrs: { autocomplete: 'off' } });
  const status = h('p', { class: 'empty', role: 'status' });
  const list = h('ol', { class: 'messages', 'aria-live': 'polite', 'aria-label': 'Messages, newest first' });
  const older = h('button', { type: 'button', hidden: true }, 'Show older messages');
  const captain = ctx.atLeast('captain');
  const scheduled = captain ? scheduledSection(ctx) : null;
  const compose = captain ? await composer(ctx, { onScheduled: () => scheduled.refresh() }) : null;
  container.append(
    h('h2', { id: 'tab-heading' }, 'Messages'),
    compose?.opener,
    compose?.node,
    compose?.sheet,
    scheduled?.node,
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
  await Promise.all([refresh(), scheduled?.refresh()]);
  // A scheduled announcement going out arrives as a message: both lists change.
  const stopMessages = ctx.live.on('message', () => {
    refresh();
    scheduled?.refresh();
  });
  // Another captain scheduled, edited or cancelled one.
  const stopAnnouncements = ctx.live.on('announcement', () => scheduled?.refresh());
  return () => {
    clearTimeout(typing);
    stopMessages();
    stopAnnouncements();
  };
}
