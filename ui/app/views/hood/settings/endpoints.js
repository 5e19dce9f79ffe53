// Events for integrators (issue 26): the servers of this neighborhood's own tools that its events
// are posted to, signed as the Standard Webhooks specification says. A captain adds one (its
// signing secret is shown once), sends it a test event, reads its delivery log, rotates its secret,
// turns it back on after it was disabled for failing, asks for the events since a time again, and
// deletes it.

import { api, ApiError, errorText } from '../../../api.js';
import { h, field, clearErrors, showErrors, busy, toast, when, copyField, uid } from '../../../dom.js';
import { section } from './parts.js';
import { t, tCount, tParts } from '../../../i18n.js';

/** The event types an endpoint may ask for, and what each means to people (message ids). */
const EVENTS = [
  ['member.joined', 'app-endpoints-event-member-joined'],
  ['member.left', 'app-endpoints-event-member-left'],
  ['member.removed', 'app-endpoints-event-member-removed'],
  ['member.opted_out', 'app-endpoints-event-member-opted-out'],
  ['join_request.created', 'app-endpoints-event-join-request-created'],
  ['join_request.decided', 'app-endpoints-event-join-request-decided'],
  ['message.posted', 'app-endpoints-event-message-posted'],
  ['announcement.sent', 'app-endpoints-event-announcement-sent'],
  ['budget.alert', 'app-endpoints-event-budget-alert'],
];

/** "Someone joined (member.joined)"; a type this page does not know yet, as it is. */
function eventLabel(type) {
  const id = EVENTS.find(([name]) => name === type)?.[1];
  return id ? t('app-endpoints-event-label', { what: t(id), type }) : type;
}

const listFormat = new Intl.ListFormat(undefined, { style: 'long', type: 'conjunction' });

/** How much of an answer the delivery log shows; the API keeps 512 bytes. */
const ANSWER_SHOWN = 160;

/**
 * An endpoint's answer as the log shows it: its first characters, with any phone number in it
 * (an endpoint may echo the event it was sent, and events name members by phone) blotted out.
 */
function answerText(answer) {
  const text = (answer ?? '').replace(/\+\d[\d ().-]{5,18}\d/g, '+…');
  return text.length > ANSWER_SHOWN ? `${text.slice(0, ANSWER_SHOWN)}…` : text;
}

export function endpointsSection(ctx, { canCreate = true } = {}) {
  const base = `neighborhoods/${ctx.id}/event-endpoints`;
  const list = h('ul', { class: 'list endpoints' });
  const status = h('div', { 'aria-live': 'polite' });
  const secretSlot = h('div');
  const heading = h('h4', { tabindex: '-1' }, t('app-endpoints-heading'));

  /** Shows a secret once, at the top of the section, and moves there. */
  function showSecret(panel) {
    secretSlot.replaceChildren(panel);
    panel.querySelector('h4').focus();
  }

  async function refresh() {
    try {
      const { items } = await api(base);
      list.replaceChildren(...items.map(endpointRow));
      if (items.length === 0) list.append(h('li', { class: 'empty' }, t('app-endpoints-none')));
      status.replaceChildren();
    } catch (error) {
      status.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorText(error)));
    }
  }

  function endpointRow(endpoint) {
    const path = `${base}/${endpoint.id}`;
    const disabled = endpoint.enabled === false;
    const result = h('div', { role: 'status', class: 'endpoint-result' });
    const button = (label, aria, attrs = {}) => h('button', { type: 'button', 'aria-label': aria, ...attrs }, label);

    // ---- send a test event: the endpoint's answer, or what went wrong ----
    const test = button(t('app-endpoints-test'), t('app-endpoints-test-label', { url: endpoint.url }));
    test.addEventListener('click', () => busy(test, async () => {
      result.replaceChildren(h('p', { class: 'hint' }, t('app-endpoints-test-sending')));
      try {
        const sent = await api(`${path}/test`, { method: 'POST' });
        result.replaceChildren(testOutcome(sent));
        if (deliveries.open) await deliveries.load();
      } catch (error) {
        result.replaceChildren(h('p', { class: 'alert' }, errorText(error)));
      }
    }));

    // ---- the delivery log, on demand ----
    const deliveries = deliveryLog(path, endpoint);
    const toggle = button(t('app-endpoints-deliveries'), t('app-endpoints-deliveries-label', { url: endpoint.url }),
      { 'aria-expanded': 'false', 'aria-controls': deliveries.node.id });
    toggle.addEventListener('click', () => busy(toggle, async () => {
      const open = !deliveries.open;
      toggle.setAttribute('aria-expanded', String(open));
      await deliveries.show(open);
    }));

    // ---- a new secret; the old one keeps signing for a while ----
    const rotate = button(t('app-endpoints-rotate'), t('app-endpoints-rotate-label', { url: endpoint.url }));
    rotate.addEventListener('click', async () => {
      if (!window.confirm(t('app-endpoints-rotate-confirm', { url: endpoint.url }))) return;
      await busy(rotate, async () => {
        try {
          const rotated = await api(`${path}/rotate-secret`, { method: 'POST' });
          showSecret(secretPanel({
            title: t('app-endpoints-rotated-title', { url: endpoint.url }),
            text: t('app-endpoints-rotated-text', { when: when(rotated.previous_secret_expires_at) }),
            secret: rotated.secret,
            done: () => secretSlot.replaceChildren(),
          }));
          await refresh();
        } catch (error) {
          result.replaceChildren(h('p', { class: 'alert' }, errorText(error)));
        }
      });
    });

    // ---- on again after it was disabled for failing ----
    const enable = disabled ? button(t('app-endpoints-enable'), t('app-endpoints-enable-label', { url: endpoint.url }), { class: 'primary' }) : null;
    enable?.addEventListener('click', () => busy(enable, async () => {
      try {
        await api(`${path}/enable`, { method: 'POST' });
        toast(t('app-endpoints-enabled', { url: endpoint.url }));
        await refresh();
        heading.focus();
      } catch (error) {
        result.replaceChildren(h('p', { class: 'alert' }, errorText(error)));
      }
    }));

    const remove = button(t('app-endpoints-delete'), t('app-endpoints-delete-label', { url: endpoint.url }), { class: 'danger' });
    remove.addEventListener('click', async () => {
      if (!window.confirm(t('app-endpoints-delete-confirm', { url: endpoint.url }))) return;
      await busy(remove, async () => {
        try {
          await api(path, { method: 'DELETE' });
          toast(t('app-endpoints-deleted', { url: endpoint.url }));
          await refresh();
          heading.focus();
        } catch (error) {
          result.replaceChildren(h('p', { class: 'alert' }, errorText(error)));
        }
      });
    });

    const events = endpoint.events ?? [];
    const facts = [t('app-endpoints-created', { when: when(endpoint.created_at) })];
    if (endpoint.previous_secret_expires_at) {
      facts.push(t('app-endpoints-previous-secret', { when: when(endpoint.previous_secret_expires_at) }));
    }
    return h('li', {},
      h('p', { class: 'endpoint-url' }, h('strong', {}, endpoint.url),
        disabled ? [' ', h('span', { class: 'badge bad' }, t('app-endpoints-badge-disabled'))] : null),
      endpoint.description ? h('p', { class: 'endpoint-description' }, endpoint.description) : null,
      disabled ? h('p', { class: 'note' }, endpoint.disabled_reason
        ? t('app-endpoints-disabled-reason', { reason: endpoint.disabled_reason })
        : t('app-endpoints-disabled')) : null,
      h('p', { class: 'small-print' }, t('app-endpoints-events', { events: listFormat.format(events.map(eventLabel)) })),
      h('p', { class: 'muted small-print' }, facts.join(' ')),
      h('div', { class: 'actions endpoint-actions' }, enable, test, toggle, rotate, remove),
      result,
      // Replaying needs the API's newer operations; an endpoint that says whether it is enabled
      // comes from a service that has them.
      'enabled' in endpoint ? replayForm(path, endpoint) : null,
      deliveries.node);
  }

  /** "Replay since…": every event since a time, sent again. */
  function replayForm(path, endpoint) {
    const since = field({ label: t('app-endpoints-replay-since'), name: 'since', type: 'datetime-local',
      hint: t('app-endpoints-replay-hint') });
    const submit = h('button', { type: 'submit', 'aria-label': t('app-endpoints-replay-label', { url: endpoint.url }) },
      t('app-endpoints-replay'));
    const form = h('form', { novalidate: true, onsubmit: async (event) => {
      event.preventDefault();
      clearErrors(form);
      const value = since.control.value;
      if (!value) {
        const message = t('app-endpoints-replay-pick');
        showErrors(form, new ApiError(400, 'validation', message, [{ field: 'since', message }]));
        return;
      }
      await busy(submit, async () => {
        try {
          // The time as the reader meant it, in their own zone.
          const body = { since: new Date(value).toISOString() };
          const replayed = await api(`${path}/replay`, { method: 'POST', body });
          // How many events went back in line, which the API answers.
          const vars = { when: when(body.since), url: endpoint.url };
          toast(replayed.events === 0 ? t('app-endpoints-replaying-none', vars)
            : tCount(replayed.events, 'app-endpoints-replaying-one', 'app-endpoints-replaying-other', vars));
          await refresh();
        } catch (error) {
          showErrors(form, error);
        }
      });
    } }, since, h('div', { class: 'actions' }, submit));
    return h('details', { class: 'older replay' }, h('summary', {}, t('app-endpoints-replay-summary')), form);
  }

  // ---- adding one ----
  const url = field({ label: t('app-endpoints-url'), name: 'url', type: 'url', required: true,
    hint: t('app-endpoints-url-hint'), attrs: { inputmode: 'url', autocomplete: 'off', spellcheck: 'false' } });
  const eventsError = h('p', { id: uid('events-error'), class: 'field-error', hidden: true });
  const boxes = EVENTS.map(([type]) => {
    const id = uid('event');
    const box = h('input', { type: 'checkbox', id, value: type });
    return h('div', { class: 'check-row' }, box, h('label', { for: id }, eventLabel(type)));
  });
  // Named "events" so the API's error on `events` lands under the whole group.
  const events = h('div', { class: 'field' },
    h('fieldset', { class: 'choices checks', name: 'events', tabindex: '-1', 'aria-describedby': eventsError.id },
      h('legend', {}, t('app-endpoints-events-legend')), boxes),
    eventsError);
  const description = field({ label: t('app-endpoints-description'), name: 'description',
    hint: t('app-endpoints-description-hint'), attrs: { maxlength: 200, autocomplete: 'off' } });
  const submit = h('button', { class: 'primary', type: 'submit' }, t('app-endpoints-create'));
  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = {
      url: url.control.value.trim(),
      events: [...events.querySelectorAll('input:checked')].map((box) => box.value),
      description: description.control.value.trim() || undefined,
    };
    await busy(submit, async () => {
      try {
        const created = await api(base, { method: 'POST', body });
        form.reset();
        showSecret(secretPanel({
          title: t('app-endpoints-secret-title', { url: created.endpoint.url }),
          text: t('app-endpoints-secret-text'),
          secret: created.secret,
          verify: true,
          done: () => secretSlot.replaceChildren(),
        }));
        await refresh();
      } catch (error) {
        showErrors(form, error);
      }
    });
  } }, url, events, description, h('div', { class: 'actions' }, submit));

  const node = section('endpoints', t('app-endpoints-title'),
    h('p', { class: 'hint' }, t('app-endpoints-hint')),
    secretSlot, heading, status, list,
    canCreate ? [h('h4', {}, t('app-endpoints-create-heading')), form] : null);
  return { node, refresh };
}

/** What a test event's delivery record says, in a sentence or two. */
function testOutcome(sent) {
  const ms = sent.latency_ms;
  if (sent.status === undefined || sent.status === null) {
    return h('p', { class: 'alert' }, t('app-endpoints-test-no-answer', { ms, why: sent.answer }));
  }
  const said = sent.answer ? h('span', { class: 'endpoint-answer' }, answerText(sent.answer)) : null;
  return sent.delivered
    ? h('p', { class: 'success' }, t('app-endpoints-test-delivered', { status: sent.status, ms }))
    : h('p', { class: 'alert' }, t('app-endpoints-test-refused', { status: sent.status, ms }),
      said ? [' ', ...tParts('app-endpoints-test-said', { answer: said })] : null);
}

/** An endpoint's delivery log: a table that loads when opened. */
function deliveryLog(path, endpoint) {
  const node = h('div', { id: uid('deliveries'), class: 'deliveries-panel', hidden: true });
  const log = {
    node,
    open: false,
    async show(open) {
      log.open = open;
      node.hidden = !open;
      if (open) await log.load();
    },
    async load() {
      node.setAttribute('aria-busy', 'true');
      try {
        const { items } = await api(`${path}/deliveries`, { query: { limit: 50 } });
        node.replaceChildren(items.length === 0
          ? h('p', { class: 'empty' }, t('app-endpoints-deliveries-none'))
          : deliveryTable(items, endpoint));
      } catch (error) {
        node.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorText(error)));
      } finally {
        node.removeAttribute('aria-busy');
      }
    },
  };
  return log;
}

function deliveryTable(items, endpoint) {
  const columns = [
    t('app-endpoints-col-time'), t('app-endpoints-col-event'), t('app-endpoints-col-attempt'),
    t('app-endpoints-col-status'), t('app-endpoints-col-latency'), t('app-endpoints-col-answer'),
  ];
  // On a phone each delivery is a block of labelled lines; the labels are the headers', so
  // a screen reader, which hears the headers, is not told them twice.
  const cell = (index, ...content) => h('td', {}, h('span', { class: 'cell-label', 'aria-hidden': 'true' }, columns[index]), ...content);
  const rows = items.map((delivery) => h('tr', {},
    cell(0, h('time', { datetime: delivery.at }, when(delivery.at))),
    cell(1, h('code', {}, delivery.event_type)),
    cell(2, String(delivery.attempt)),
    cell(3, delivery.status === undefined || delivery.status === null
      ? h('span', { class: 'badge bad' }, t('app-endpoints-no-answer'))
      : h('span', { class: delivery.delivered ? 'badge ok' : 'badge bad' }, t('app-endpoints-http', { status: delivery.status }))),
    cell(4, t('app-endpoints-ms', { ms: delivery.latency_ms })),
    cell(5, h('span', { class: 'endpoint-answer' }, answerText(delivery.answer)))));
  return h('table', { class: 'deliveries' },
    h('caption', {}, t('app-endpoints-deliveries-caption', { url: endpoint.url })),
    h('thead', {}, h('tr', {}, columns.map((name) => h('th', { scope: 'col' }, name)))),
    h('tbody', {}, rows));
}

/** A secret, shown once: copy it now. */
function secretPanel({ title, text, secret, verify = false, done }) {
  return h('div', { class: 'secret' },
    h('h4', { tabindex: '-1' }, title),
    h('p', {}, h('strong', {}, t('app-endpoints-secret-warning')), ' ', text),
    copyField({ label: t('app-endpoints-secret'), value: secret }),
    verify ? h('p', { class: 'hint' }, t('app-endpoints-verify-hint')) : null,
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: done }, t('app-endpoints-copied'))));
}
