// Messages: the group's history, newest first, arriving live; captains post announcements now
// or at a time, and see the scheduled ones with edit and cancel.

import { api, errorText } from '../../api.js';
import { h, field, when, showErrors, clearErrors, busy, toast, phoneText, uid } from '../../dom.js';
import { coalesce } from '../../live.js';
import { moneyText } from '../../money.js';

const PAGE = 50;

function item(message) {
  // As the group saw it: the sender's name in front of the text.
  return h('li', { 'data-message': message.id },
    h('p', { class: 'body' }, h('strong', {}, `${message.sender_name ?? 'Someone'}: `), message.body),
    h('p', { class: 'meta' }, h('time', { datetime: message.at }, when(message.at))));
}

// ---- announcements: now or at a time; the scheduled ones with edit and cancel ----

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

function whenText(announcement) {
  const at = when(announcement.scheduled_for);
  return announcement.waits_for_quiet_hours ? `Goes out ${at}, after quiet hours` : `Goes out ${at}`;
}

function announcementForm(ctx, onScheduled) {
  const body = field({
    label: 'Announcement to everyone', name: 'body', type: 'textarea', required: true,
    hint: `Texted to the whole group from ${phoneText(ctx.neighborhood.phone_number)}, signed with your name.`,
    attrs: { maxlength: 1600 },
  });
  const timing = uid('timing');
  const now = h('input', { type: 'radio', id: `${timing}-now`, name: 'timing', value: 'now', checked: true });
  const later = h('input', { type: 'radio', id: `${timing}-later`, name: 'timing', value: 'later' });
  const sendAt = field({ label: 'Send at', name: 'send_at', type: 'datetime-local',
    hint: 'Your local time. Up to a year ahead.' });
  const choice = h('fieldset', { class: 'choices' }, h('legend', {}, 'When'),
    h('div', { class: 'choice' }, now, h('label', { for: now.id }, 'Send now')),
    h('div', { class: 'choice' }, later, h('label', { for: later.id }, 'Schedule for a time')));
  const quiet = ctx.neighborhood.quiet_hours;
  const urgent = field({ label: 'Urgent (ignore quiet hours)', name: 'urgent', type: 'checkbox',
    hint: quiet
      ? `Quiet hours are ${quiet.start} to ${quiet.end} (${quiet.time_zone}); other announcements wait for them to end.`
      : 'This neighborhood has no quiet hours (Settings).' });
  const send = h('button', { class: 'primary', type: 'submit' }, 'Send to everyone');
  const showTiming = () => {
    sendAt.hidden = !later.checked;
    send.textContent = later.checked ? 'Schedule' : 'Send to everyone';
  };
  now.addEventListener('change', showTiming);
  later.addEventListener('change', showTiming);
  showTiming();
  const form = h('form', { class: 'card', novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    const request = { body: body.control.value, urgent: urgent.control.checked };
    if (later.checked) {
      // Left empty, the API's field error names send_at.
      request.send_at = sendAtFromLocal(sendAt.control.value) ?? '';
    }
    await busy(send, async () => {
      try {
        const answer = await api(`neighborhoods/${ctx.id}/messages`, { method: 'POST', body: request });
        body.control.value = '';
        sendAt.control.value = '';
        urgent.control.checked = false;
        now.checked = true;
        showTiming();
        if (answer?.state === 'scheduled') {
          toast(answer.waits_for_quiet_hours && !later.checked
            ? `Quiet hours: it goes out ${when(answer.scheduled_for)}.`
            : `Scheduled: it goes out ${when(answer.scheduled_for)}.`);
          onScheduled();
        } else if (answer?.held) {
          toast('The monthly budget is spent: the announcement waits until a captain raises it (Settings, Costs and budget).');
        } else {
          toast(`Announcement sent to the group (about ${moneyText(answer?.estimate?.cost ?? '0')}).`);
        }
      } catch (error) {
        showErrors(form, error);
      }
    });
  } }, body, choice, sendAt, urgent, h('div', { class: 'actions' }, send));
  return form;
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
        announcement.urgent ? ' · urgent' : ''),
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
  container.append(
    h('h2', { id: 'tab-heading' }, 'Messages'),
    captain ? announcementForm(ctx, () => scheduled.refresh()) : null,
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
