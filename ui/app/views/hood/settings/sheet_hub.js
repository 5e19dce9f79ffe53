// The spreadsheet hub (issue 27): a Google Sheet (a list of people, or a Google Form's responses)
// that this neighborhood keeps in sync with. A captain connects a Google account (Google's consent
// page, then back here with ?sheet_hub=connected), names the spreadsheet and its range, previews
// the rows as the CSV import's dry run reads them, syncs now or lets it sync every few minutes,
// sees why syncing paused and what to do about it, and disconnects. Phones that left the sheet
// are listed, never removed. A Form's responses are read with the form's consent question, named
// word for word: each response that agreed becomes a join request keeping it as its evidence.

import { api, errorText } from '../../../api.js';
import { h, field, choices, clearErrors, showErrors, busy, toast, when, copyField, phoneText } from '../../../dom.js';
import { section } from './parts.js';
import { t, tCount } from '../../../i18n.js';

/** Radio choices as [value, label, explanation], the words message ids. */
const MODES = [
  ['roster', 'app-sheet-hub-mode-roster', 'app-sheet-hub-mode-roster-hint'],
  ['form', 'app-sheet-hub-mode-form', 'app-sheet-hub-mode-form-hint'],
];

/** What stopped or troubled the last sync, and what a captain does about it (message ids). */
const PROBLEMS = {
  revoked: 'app-sheet-hub-problem-revoked',
  forbidden: 'app-sheet-hub-problem-forbidden',
  not_found: 'app-sheet-hub-problem-not-found',
  range_not_found: 'app-sheet-hub-problem-range-not-found',
  header: 'app-sheet-hub-problem-header',
  rate_limited: 'app-sheet-hub-problem-rate-limited',
  unavailable: 'app-sheet-hub-problem-unavailable',
};

/** Why connecting failed, as the callback tells it (?sheet_hub=error&reason=…). */
const CONNECT_ERRORS = {
  denied: 'app-sheet-hub-connect-denied',
  expired: 'app-sheet-hub-connect-expired',
  refused: 'app-sheet-hub-connect-refused',
};

/** A row's outcome in a dry run (message ids of the import's report). */
const WOULD = {
  added: 'app-data-row-to-add', updated: 'app-data-row-to-update', unchanged: 'app-data-row-unchanged', rejected: 'app-data-row-rejected',
};

/** How many rows of a preview the page lists; the rest are counted only. */
const ROWS_SHOWN = 100;

/** A spreadsheet as a link people recognize; anything that is not a bare ID, as it is. */
const sheetLink = (spreadsheet) => (/^[A-Za-z0-9_-]{20,}$/.test(spreadsheet ?? '')
  ? `https://docs.google.com/spreadsheets/d/${spreadsheet}/edit`
  : (spreadsheet ?? ''));

/**
 * What Google's redirect back here said, once: `?sheet_hub=connected` or
 * `?sheet_hub=error&reason=…` is read and taken out of the address (the hash, the route, stays),
 * so a reload does not say it again. Null when there is nothing to say.
 */
function connectOutcome() {
  const params = new URLSearchParams(location.search);
  const outcome = params.get('sheet_hub');
  if (!outcome) return null;
  const reason = params.get('reason');
  params.delete('sheet_hub');
  params.delete('reason');
  const rest = params.toString();
  history.replaceState(history.state, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`);
  if (outcome === 'connected') return { ok: true, text: t('app-sheet-hub-connected-now') };
  return { ok: false, text: t(CONNECT_ERRORS[reason] ?? 'app-sheet-hub-connect-failed') };
}

export function sheetHubSection(ctx, whoIs) {
  const base = `neighborhoods/${ctx.id}/sheet-hub`;
  const flash = h('div');
  const status = h('div', { 'aria-live': 'polite' });
  const stateSlot = h('div');
  const formSlot = h('div');
  const result = h('div', { class: 'sheet-hub-result' });
  let shown = null; // the hub as last drawn
  let formFor = null; // 'unavailable' | 'disconnected' | 'connected': what formSlot was drawn for
  let updateForm = null; // tells the form drawn what the hub is now

  const heading = () => document.getElementById('sheet-hub-heading');
  const outcome = connectOutcome();
  if (outcome) {
    flash.replaceChildren(h('div', { class: outcome.ok ? 'success' : 'alert', role: outcome.ok ? 'status' : 'alert', tabindex: '-1' },
      h('p', {}, outcome.text)));
  }

  /** Starts Google's consent: the API makes the address (with PKCE and a state), the page goes there. */
  async function connect(button, slot) {
    await busy(button, async () => {
      try {
        const { authorization_url: url } = await api(`${base}/connect`, { method: 'POST', body: {} });
        location.href = url;
      } catch (error) {
        slot.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorText(error)));
      }
    });
  }

  async function refresh() {
    try {
      draw(await api(base));
      status.replaceChildren();
    } catch (error) {
      status.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorText(error)));
    }
    if (outcome && !outcome.focused) {
      // Back from Google: the captain's next step is here, far down a long page.
      outcome.focused = true;
      const note = flash.firstChild;
      note?.scrollIntoView({ block: 'start' });
      note?.focus({ preventScroll: true });
    }
  }

  function draw(hub) {
    shown = hub;
    const kind = !hub.available ? 'unavailable' : hub.connected ? 'connected' : 'disconnected';
    stateSlot.replaceChildren(...(kind === 'connected' ? connectedState(hub) : []).filter(Boolean));
    // The form is drawn again only when the hub changes kind, so nothing typed is lost.
    if (formFor !== kind) {
      formFor = kind;
      updateForm = null;
      formSlot.replaceChildren(kind === 'unavailable' ? unavailable(hub)
        : kind === 'disconnected' ? disconnected() : configForm(hub));
    }
    updateForm?.(hub);
  }

  // ---- the operator has not set Google up ----
  function unavailable(hub) {
    return h('div', {},
      h('p', { class: 'note' }, t('app-sheet-hub-unavailable')),
      copyField({ label: t('app-sheet-hub-redirect-uri'), value: hub.redirect_uri ?? '', hint: t('app-sheet-hub-redirect-uri-hint') }));
  }

  // ---- not connected: one button to Google ----
  function disconnected() {
    const said = h('div');
    const button = h('button', { type: 'button', class: 'primary' }, t('app-sheet-hub-connect'));
    button.addEventListener('click', () => connect(button, said));
    return h('div', {},
      h('p', {}, t('app-sheet-hub-not-connected')),
      h('div', { class: 'actions' }, button),
      said);
  }

  // ---- connected: where it stands ----
  function connectedState(hub) {
    const facts = [];
    const fact = (term, ...value) => facts.push(h('dt', {}, term), h('dd', {}, ...value));
    fact(t('app-sheet-hub-connected-by'), hub.connected_at
      ? t('app-sheet-hub-by-when', { who: whoIs(hub.connected_by), when: when(hub.connected_at) })
      : whoIs(hub.connected_by));
    if (hub.spreadsheet) {
      fact(t('app-sheet-hub-spreadsheet-fact'),
        h('a', { href: sheetLink(hub.spreadsheet), target: '_blank', rel: 'noopener' }, t('app-sheet-hub-open-sheet')),
        hub.range ? ` · ${hub.range}` : '');
    }
    if (hub.mode === 'form' && hub.consent_question) {
      fact(t('app-sheet-hub-consent-fact'), h('q', {}, hub.consent_question));
    }
    fact(t('app-sheet-hub-last-sync'), hub.last_sync
      ? t(hub.last_sync.trigger === 'captain' ? 'app-sheet-hub-when-captain' : 'app-sheet-hub-when-schedule', { when: when(hub.last_sync.at) })
      : t('app-sheet-hub-never'));
    fact(t('app-sheet-hub-next-sync'), hub.paused ? h('strong', {}, t('app-sheet-hub-paused-badge'))
      : hub.next_sync_at ? when(hub.next_sync_at)
        : t(hub.spreadsheet ? 'app-sheet-hub-next-none' : 'app-sheet-hub-next-unset'));
    return [
      hub.problem ? problemNote(hub) : null,
      h('dl', { class: 'facts sheet-hub-facts' }, facts),
      hub.last_sync ? lastSync(hub.last_sync) : null,
    ];
  }

  /** Why syncing paused (or the last sync failed), Google's words, and what to do. */
  function problemNote(hub) {
    const { problem } = hub;
    const todo = PROBLEMS[problem.code];
    const said = h('div');
    let reconnect = null;
    if (problem.code === 'revoked') {
      reconnect = h('button', { type: 'button', class: 'primary' }, t('app-sheet-hub-reconnect'));
      reconnect.addEventListener('click', () => connect(reconnect, said));
    }
    return h('div', { class: hub.paused ? 'alert sheet-hub-problem' : 'note sheet-hub-problem' },
      h('p', {}, h('strong', {}, t(hub.paused ? 'app-sheet-hub-paused' : 'app-sheet-hub-trouble', { when: when(problem.at) }))),
      todo ? h('p', {}, t(todo)) : null,
      problem.message ? h('p', { class: 'small-print' }, t('app-sheet-hub-problem-said', { message: problem.message })) : null,
      reconnect ? h('div', { class: 'actions' }, reconnect) : null,
      said);
  }

  /** The last sync's counts, and the phones that left the sheet (which stay in the group). */
  function lastSync(sync) {
    const removed = sync.removed_phones ?? [];
    return h('div', { class: 'sheet-hub-last', tabindex: '-1' },
      h('h4', {}, t('app-sheet-hub-last-heading')),
      h('p', {}, sync.sheet_unchanged ? t('app-sheet-hub-sheet-unchanged')
        : t('app-sheet-hub-counts', { rows: sync.rows, added: sync.added, updated: sync.updated, unchanged: sync.unchanged, rejected: sync.rejected })),
      sync.held_back ? h('p', {}, tCount(sync.held_back, 'app-sheet-hub-held-back-one', 'app-sheet-hub-held-back-other')) : null,
      sync.removed_from_sheet ? [
        h('p', {}, tCount(sync.removed_from_sheet, 'app-sheet-hub-removed-one', 'app-sheet-hub-removed-other')),
        h('ul', { class: 'sheet-hub-phones', 'aria-label': t('app-sheet-hub-removed-list') }, removed.map((phone) => h('li', {}, phoneText(phone)))),
        sync.removed_from_sheet > removed.length
          ? h('p', { class: 'small-print' }, t('app-sheet-hub-removed-more', { count: sync.removed_from_sheet - removed.length }))
          : null,
      ] : null);
  }

  // ---- connected: the settings, and what to do with them ----
  function configForm(hub) {
    const spreadsheet = field({ label: t('app-sheet-hub-spreadsheet'), name: 'spreadsheet', value: sheetLink(hub.spreadsheet),
      required: true, hint: t('app-sheet-hub-spreadsheet-hint'),
      attrs: { inputmode: 'url', autocomplete: 'off', spellcheck: 'false' } });
    const range = field({ label: t('app-sheet-hub-range'), name: 'range', value: hub.range ?? 'Sheet1', required: true,
      hint: t('app-sheet-hub-range-hint'), attrs: { autocomplete: 'off', spellcheck: 'false' } });
    // Not named "mode": the neighborhood form's radios are, and ids follow names.
    const mode = choices({ legend: t('app-sheet-hub-mode'), name: 'sheet-hub-mode', value: hub.mode ?? 'roster',
      options: MODES.map(([value, label, hint]) => [value, t(label), t(hint)]) });
    const attest = field({ label: t('app-sheet-hub-attest'), name: 'attest_consent', type: 'checkbox', value: hub.attest_consent,
      hint: t('app-sheet-hub-attest-hint') });
    const question = field({ label: t('app-sheet-hub-consent-question'), name: 'consent_question', value: hub.consent_question ?? '',
      required: true, hint: t('app-sheet-hub-consent-question-hint'), attrs: { autocomplete: 'off' } });
    const interval = field({ label: t('app-sheet-hub-interval'), name: 'interval_minutes', type: 'number',
      value: String(hub.interval_minutes ?? 15), hint: t('app-sheet-hub-interval-hint'),
      attrs: { min: 5, max: 1440, inputmode: 'numeric' } });
    // Consent is attested for a list of people; a Form's responses are join requests, always,
    // each with the form's own consent question as its evidence.
    const showForMode = () => {
      const responses = mode.value() === 'form';
      attest.hidden = responses;
      question.hidden = !responses;
    };
    mode.addEventListener('change', showForMode);
    showForMode();

    const saved = h('p', { class: 'hint', role: 'status' });
    const save = h('button', { class: 'primary', type: 'submit' }, t('app-sheet-hub-save'));
    const form = h('form', { novalidate: true, onsubmit: async (event) => {
      event.preventDefault();
      clearErrors(form);
      saved.textContent = '';
      const minutes = interval.control.value.trim();
      const body = {
        spreadsheet: spreadsheet.control.value.trim(),
        range: range.control.value.trim(),
        mode: mode.value(),
        attest_consent: mode.value() === 'roster' && attest.control.checked,
        // Left empty in form mode, the API's field error says it is wanted.
        consent_question: mode.value() === 'form' ? question.control.value.trim() : undefined,
        interval_minutes: minutes === '' ? undefined : Number(minutes),
      };
      await busy(save, async () => {
        try {
          draw(await api(base, { method: 'PUT', body }));
          // "Connected: now paste the link and save" is done with.
          flash.replaceChildren();
          saved.textContent = t('app-settings-saved-at', { time: new Date().toLocaleTimeString() });
        } catch (error) {
          showErrors(form, error);
        }
      });
    } }, spreadsheet, range, mode, attest, question, interval, h('div', { class: 'actions' }, save, saved));

    // ---- preview, sync, disconnect ----
    const preview = h('button', { type: 'button' }, t('app-sheet-hub-preview'));
    const sync = h('button', { type: 'button' }, t('app-sheet-hub-sync'));
    const disconnect = h('button', { type: 'button', class: 'danger' }, t('app-sheet-hub-disconnect'));
    const needsSheet = h('p', { class: 'hint' }, t('app-sheet-hub-save-first'));
    // Preview and sync read the saved spreadsheet: none saved, nothing to read.
    updateForm = (now) => {
      const ready = Boolean(now.spreadsheet);
      preview.disabled = !ready;
      sync.disabled = !ready;
      needsSheet.hidden = ready;
    };

    preview.addEventListener('click', () => busy(preview, async () => {
      result.replaceChildren(h('p', { class: 'hint' }, t('app-sheet-hub-previewing')));
      try {
        result.replaceChildren(reportView(await api(`${base}/preview`, { method: 'POST', body: {} }), shown?.mode));
        result.firstChild.focus();
      } catch (error) {
        result.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorText(error)));
        await refresh();
      }
    }));

    sync.addEventListener('click', () => busy(sync, async () => {
      result.replaceChildren(h('p', { class: 'hint' }, t('app-sheet-hub-syncing')));
      try {
        const hub = await api(`${base}/sync`, { method: 'POST', body: {} });
        result.replaceChildren();
        draw(hub);
        const done = hub.last_sync;
        if (done) {
          toast(done.sheet_unchanged ? t('app-sheet-hub-synced-unchanged')
            : t('app-sheet-hub-synced', { added: done.added, updated: done.updated }));
        }
        stateSlot.querySelector('.sheet-hub-last')?.focus();
      } catch (error) {
        result.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorText(error)));
        await refresh();
      }
    }));

    disconnect.addEventListener('click', async () => {
      if (!window.confirm(t('app-sheet-hub-disconnect-confirm'))) return;
      await busy(disconnect, async () => {
        try {
          await api(base, { method: 'DELETE' });
          toast(t('app-sheet-hub-disconnected'));
          result.replaceChildren();
          flash.replaceChildren();
          await refresh();
          heading()?.focus();
        } catch (error) {
          result.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorText(error)));
        }
      });
    });

    return h('div', {},
      h('h4', {}, t('app-sheet-hub-settings-heading')),
      form,
      h('h4', {}, t('app-sheet-hub-actions-heading')),
      h('p', { class: 'hint' }, t('app-sheet-hub-actions-hint')),
      needsSheet,
      h('div', { class: 'actions' }, preview, sync, disconnect));
  }

  const node = section('sheet-hub', t('app-sheet-hub-title'),
    h('p', { class: 'hint' }, t('app-sheet-hub-hint')),
    flash, status, stateSlot, formSlot, result);
  return { node, refresh, get hub() { return shown; } };
}

/**
 * A preview: the counts, the columns not read, and the rows listed with what would happen;
 * `mode` is the hub's ('form': each row is a response).
 */
function reportView(report, mode) {
  const outcome = (row) => (WOULD[row.outcome] ? t(WOULD[row.outcome]) : row.outcome);
  const rows = report.details.slice(0, ROWS_SHOWN).map((row) => {
    const vars = { row: row.row, outcome: outcome(row), phone: phoneText(row.phone), reason: row.reason };
    const id = row.phone
      ? (row.reason ? 'app-sheet-hub-row-phone-reason' : 'app-sheet-hub-row-phone')
      : (row.reason ? 'app-sheet-hub-row-reason' : 'app-sheet-hub-row');
    return h('li', { class: row.outcome === 'rejected' ? 'rejected' : null }, t(id, vars));
  });
  return h('div', { class: report.rejected ? 'note sheet-hub-report' : 'success sheet-hub-report', tabindex: '-1' },
    h('h4', {}, t('app-sheet-hub-preview-heading')),
    h('p', {}, h('strong', {}, t('app-sheet-hub-preview-counts', {
      rows: report.rows, added: report.added, updated: report.updated, unchanged: report.unchanged, rejected: report.rejected,
    }))),
    h('p', {}, t(mode === 'form' ? 'app-sheet-hub-preview-responses'
      : report.attest_consent ? 'app-sheet-hub-preview-members' : 'app-sheet-hub-preview-requests')),
    report.warnings.length ? [
      h('p', {}, t('app-sheet-hub-preview-warnings')),
      h('ul', {}, report.warnings.map((warning) => h('li', {},
        t('app-sheet-hub-preview-warning', { column: warning.column ?? '', message: warning.message ?? '' })))),
    ] : null,
    rows.length ? h('ul', { class: 'sheet-hub-rows', 'aria-label': t('app-sheet-hub-preview-rows') }, rows) : null,
    report.details.length > ROWS_SHOWN || report.details_truncated ? h('p', {}, t('app-data-more-rows')) : null);
}
