// Import & export: members in from a spreadsheet (a dry run first, then the real run), and the
// neighborhood's records out as CSV or JSON files.

import { api, errorText } from '../../api.js';
import { h, field, busy, showErrors, clearErrors, toast } from '../../dom.js';
import { t, tParts } from '../../i18n.js';

const EXPORTS = [
  ['members', 'app-data-export-members', 'moderator'],
  ['join-requests', 'app-data-export-requests', 'moderator'],
  ['messages', 'app-data-export-messages', 'moderator'],
  ['audit', 'app-data-export-audit', 'captain'],
];

/** What happened to each row (message ids); WOULD for a dry run. */
const OUTCOMES = {
  added: 'app-data-row-added', updated: 'app-data-row-updated', unchanged: 'app-data-row-unchanged', rejected: 'app-data-row-rejected',
};
const WOULD = {
  added: 'app-data-row-to-add', updated: 'app-data-row-to-update', unchanged: 'app-data-row-unchanged', rejected: 'app-data-row-rejected',
};

function exportSection(ctx) {
  const links = EXPORTS.filter(([, , least]) => ctx.atLeast(least)).map(([what, label]) => h('li', {},
    ...tParts('app-data-export-links', {
      what: t(label),
      csv: h('a', { href: `/api/v1/neighborhoods/${ctx.id}/export/${what}?format=csv`, download: '' }, t('app-data-csv')),
      json: h('a', { href: `/api/v1/neighborhoods/${ctx.id}/export/${what}?format=json`, download: '' }, t('app-data-json')),
    })));
  return h('section', { class: 'card', 'aria-labelledby': 'export-heading' },
    h('h3', { id: 'export-heading' }, t('app-data-export')),
    h('p', { class: 'hint' }, t(ctx.atLeast('captain') ? 'app-data-export-hint-captain' : 'app-data-export-hint')),
    h('ul', {}, links));
}

function reportView(report) {
  const counts = {
    rows: report.rows, added: report.added, updated: report.updated, unchanged: report.unchanged, rejected: report.rejected,
  };
  const outcome = (row) => {
    const id = (report.dry_run ? WOULD : OUTCOMES)[row.outcome];
    return id ? t(id) : row.outcome;
  };
  const notRead = report.warnings.map((warning) => warning.column ?? warning.message ?? '').filter(Boolean).join(', ');
  return h('div', { class: report.rejected ? 'alert' : 'success', role: 'status', tabindex: '-1' },
    h('p', {}, h('strong', {}, t(report.dry_run ? 'app-data-report-dry-run' : 'app-data-report', counts))),
    report.warnings.length ? h('p', {}, t('app-data-not-read', { columns: notRead })) : null,
    report.details.length ? h('ul', {}, report.details.slice(0, 50).map((row) => h('li', {}, row.reason
      ? t('app-data-row-reason', { row: row.row, outcome: outcome(row), reason: row.reason })
      : t('app-data-row', { row: row.row, outcome: outcome(row) })))) : null,
    report.details.length > 50 || report.details_truncated ? h('p', {}, t('app-data-more-rows')) : null);
}

function importSection(ctx) {
  const file = field({ label: t('app-data-file'), name: 'file', type: 'file', required: true,
    hint: t('app-data-file-hint'),
    attrs: { accept: '.csv,text/csv' } });
  const attest = field({ label: t('app-data-attest'), name: 'attest_consent', type: 'checkbox',
    hint: t('app-data-attest-hint') });
  const check = h('button', { type: 'submit', class: 'primary' }, t('app-data-check'));
  const run = h('button', { type: 'button', hidden: true }, t('app-data-run'));
  const result = h('div');
  let checked = null;
  const send = async (dryRun) => {
    const upload = file.control.files?.[0];
    return api(`neighborhoods/${ctx.id}/import`, {
      method: 'POST',
      query: { dry_run: dryRun, attest_consent: attest.control.checked },
      body: upload ? await upload.text() : '',
      contentType: 'text/csv',
    });
  };
  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    run.hidden = true;
    await busy(check, async () => {
      try {
        checked = await send(true);
        result.replaceChildren(reportView(checked));
        run.hidden = checked.added + checked.updated === 0;
        result.firstChild.focus();
      } catch (error) {
        showErrors(form, error);
      }
    });
  } }, file, attest, h('div', { class: 'actions' }, check, run), result);
  run.addEventListener('click', () => busy(run, async () => {
    try {
      const report = await send(false);
      result.replaceChildren(reportView(report));
      run.hidden = true;
      toast(t('app-data-imported', { added: report.added, updated: report.updated }));
      result.firstChild.focus();
    } catch (error) {
      result.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorText(error)));
    }
  }));
  file.control.addEventListener('change', () => { run.hidden = true; result.replaceChildren(); });
  attest.control.addEventListener('change', () => { run.hidden = true; });
  return h('section', { class: 'card', 'aria-labelledby': 'import-heading' },
    h('h3', { id: 'import-heading' }, t('app-data-import')),
    h('p', { class: 'hint' }, t('app-data-import-hint')),
    form);
}

export default function data(container, ctx) {
  container.append(
    h('h2', { id: 'tab-heading' }, t('app-data-title')),
    ctx.atLeast('captain') && ctx.neighborhood.state !== 'archived' ? importSection(ctx) : null,
    exportSection(ctx));
}
