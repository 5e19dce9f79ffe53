// Messages: the group's history, newest first, arriving live; captains write announcements in
// the composer (composer.js) and see the scheduled ones with edit and cancel.

import { api, errorText } from '../../api.js';
import { h, field, when, showErrors, clearErrors, busy, toast } from '../../dom.js';
import { coalesce } from '../../live.js';
import { composer } from './composer.js';
import { t, tCount, language } from '../../i18n.js';

const PAGE = 50;

/**
 * A picture's size as people read it ("48 kB", "1.2 MB"), in the reader's language; anything
 * smaller counts as 1 kB (English writes bytes as "75 byte").
 */
function sizeText(bytes) {
  const [value, unit, digits] = bytes >= 999_500 ? [bytes / 1e6, 'megabyte', 1]
    : [Math.max(1, Math.round(bytes / 1e3)), 'kilobyte', 0];
  return new Intl.NumberFormat(language(), { style: 'unit', unit, maximumFractionDigits: digits }).format(value);
}

/**
 * A message's pictures as thumbnails, each a link to the full picture in a new tab. They come
 * through the service (GET .../media/{sid}, with the session's cookie), never from Twilio, and
 * load only when scrolled near.
 */
function pictures(ctx, message, name) {
  const media = message.media ?? [];
  if (media.length === 0) return null;
  return h('div', { class: 'photos' }, media.map((picture, index) => {
    const src = `/api/v1/neighborhoods/${encodeURIComponent(ctx.id)}/media/${encodeURIComponent(picture.media_sid)}`;
    const size = sizeText(picture.size);
    if (!picture.content_type.startsWith('image/')) {
      return h('a', { class: 'file', href: src, target: '_blank', rel: 'noopener' },
        t('app-messages-file', { name, type: picture.content_type, size }));
    }
    const alt = media.length === 1
      ? t('app-messages-photo', { name, size })
      : t('app-messages-photo-of', { name, size, number: index + 1, count: media.length });
    return h('a', { href: src, target: '_blank', rel: 'noopener' },
      h('img', { src, alt, loading: 'lazy', decoding: 'async' }),
      h('span', { class: 'vh' }, ` ${t('app-messages-photo-opens')}`));
  }));
}

function item(ctx, message) {
  // As the group saw it: the sender's name in front of the text; an announcement to some
  // neighbors says to whom.
  const name = message.sender_name ?? t('app-messages-someone');
  return h('li', { 'data-message': message.id },
    h('p', { class: 'body' }, h('strong', {}, `${t('app-messages-signed', { name })} `), message.body),
    pictures(ctx, message, name),
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

/** A role's people, as an announcement's audience names them (message ids). */
const ROLE_PEOPLE = {
  member: 'app-scheduled-role-members',
  moderator: 'app-scheduled-role-moderators',
  captain: 'app-scheduled-role-captains',
  owner: 'app-scheduled-role-owners',
};

/** " · to Elm Ave", " · to captains", " · to 3 chosen people"; nothing for everyone. */
function audienceText(audience) {
  switch (audience?.kind) {
    case 'streets': return ` · ${t('app-scheduled-to', { who: audience.streets.join(', ') })}`;
    case 'roles': {
      const who = audience.roles.map((role) => (ROLE_PEOPLE[role] ? t(ROLE_PEOPLE[role]) : role)).join(', ');
      return ` · ${t('app-scheduled-to', { who })}`;
    }
    case 'members': {
      const count = audience.member_ids.length;
      return ` · ${tCount(count, 'app-scheduled-to-chosen-one', 'app-scheduled-to-chosen-other')}`;
    }
    default: return '';
  }
}

function whenText(announcement) {
  const at = when(announcement.scheduled_for);
  return t(announcement.waits_for_quiet_hours ? 'app-scheduled-goes-out-after-quiet' : 'app-scheduled-goes-out', { when: at });
}

/** One scheduled announcement's edit form, in place of its row. */
function editForm(ctx, announcement, done) {
  const body = field({ label: t('app-scheduled-text'), name: 'body', type: 'textarea', value: announcement.body, required: true,
    attrs: { maxlength: 1600 } });
  const sendAt = field({ label: t('app-scheduled-send-at'), name: 'send_at', type: 'datetime-local', value: localFromIso(announcement.send_at),
    hint: t('app-scheduled-send-at-hint') });
  const urgent = field({ label: t('app-urgent'), name: 'urgent', type: 'checkbox', value: announcement.urgent });
  const save = h('button', { class: 'primary', type: 'submit' }, t('app-scheduled-save'));
  const back = h('button', { type: 'button', onclick: () => done(false) }, t('app-scheduled-back'));
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
        toast(t('app-scheduled-saved'));
        done(true);
      } catch (error) {
        showErrors(form, error);
      }
    });
  } }, body, sendAt, urgent, h('div', { class: 'actions' }, save, back));
  return form;
}

function scheduledSection(ctx) {
  const list = h('ol', { class: 'messages', 'aria-label': t('app-scheduled-list') });
  const node = h('section', { class: 'card', 'aria-labelledby': 'scheduled-heading', hidden: true },
    h('h3', { id: 'scheduled-heading' }, t('app-scheduled-title')), list);

  const row = (announcement) => {
    const li = h('li', { 'data-announcement': announcement.id });
    const show = () => li.replaceChildren(
      h('p', { class: 'body' }, h('strong', {}, `${t('app-messages-signed', { name: announcement.signed_as })} `), announcement.body),
      h('p', { class: 'meta' }, h('time', { datetime: announcement.scheduled_for }, whenText(announcement)),
        announcement.urgent ? ` · ${t('app-scheduled-urgent')}` : '', audienceText(announcement.audience)),
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => {
          li.replaceChildren(editForm(ctx, announcement, (changed) => {
            show();
            if (changed) refresh();
          }));
          li.querySelector('textarea')?.focus();
        } }, t('app-scheduled-edit')),
        h('button', { type: 'button', class: 'danger', onclick: async (event) => {
          if (!window.confirm(t('app-scheduled-cancel-confirm'))) return;
          await busy(event.currentTarget, async () => {
            try {
              await api(`neighborhoods/${ctx.id}/announcements/${announcement.id}`, { method: 'DELETE' });
              toast(t('app-scheduled-cancelled'));
              await refresh();
            } catch (error) {
              toast(errorText(error), { error: true });
              await refresh();
            }
          });
        } }, t('app-scheduled-cancel'))));
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
  const search = field({ label: t('app-messages-search'), name: 'q', type: 'search', attrs: { autocomplete: 'off' } });
  const status = h('p', { class: 'empty', role: 'status' });
  const list = h('ol', { class: 'messages', 'aria-live': 'polite', 'aria-label': t('app-messages-list') });
  const older = h('button', { type: 'button', hidden: true }, t('app-messages-older'));
  const captain = ctx.atLeast('captain');
  const scheduled = captain ? scheduledSection(ctx) : null;
  const compose = captain ? await composer(ctx, { onScheduled: () => scheduled.refresh() }) : null;
  container.append(
    h('h2', { id: 'tab-heading' }, t('app-messages-title')),
    compose?.opener,
    compose?.node,
    compose?.sheet,
    scheduled?.node,
    h('div', { class: 'filters', role: 'search' }, search),
    status, list, older,
  );

  let nextBefore = null;
  const showPage = (page, append) => {
    const nodes = page.items.map((message) => item(ctx, message));
    if (append) list.append(...nodes);
    else list.replaceChildren(...nodes);
    nextBefore = page.next_before ?? null;
    older.hidden = !nextBefore;
    const empty = list.children.length === 0;
    status.hidden = !empty;
    status.textContent = empty ? t(search.control.value.trim() ? 'app-messages-no-match' : 'app-messages-none') : '';
  };

  // New messages reload the newest page; older pages already shown stay below it.
  const refresh = coalesce(async () => {
    try {
      const page = await api(`neighborhoods/${ctx.id}/messages`, { query: { q: search.control.value.trim(), limit: PAGE } });
      if (!older.hidden && list.children.length > PAGE) {
        const known = new Set([...list.children].map((node) => node.dataset.message));
        list.prepend(...page.items.filter((message) => !known.has(message.id)).map((message) => item(ctx, message)));
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
