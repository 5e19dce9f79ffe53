// Import & export: members in from a spreadsheet (a dry run first, then the real run), and the
// neighborhood's records out as CSV or JSON files.

import { api, errorText } from '../../api.js';
import { h, field, busy, showErrors, clearErrors, toast } from '../../dom.js';

const EXPORTS = [
  ['members', 'Members', 'moderator'],
  ['join-requests', 'Join requests, with consent evidence', 'moderator'],
  ['messages', 'Messages', 'moderator'],
  ['audit', 'Audit log', 'captain'],
];

const OUTCOMES = { added: 'Added', updated: 'Updated', unchanged: 'Unchanged', rejected: 'Rejected' };
const WOULD = { added: 'To add', updated: 'To update', unchanged: 'Unchanged', rejected: 'Rejected' };

function exportSection(ctx) {
  const links = EXPORTS.filter(([, , least]) => ctx.atLeast(least)).map(([what, label]) => h('li', {},
    `${label}: `,
    h('a', { href: `/api/v1/neighborhoods/${ctx.id}/export/${what}?format=csv`, download: '' }, 'CSV'),
    ' · ',
    h('a', { href: `/api/v1/neighborhoods/${ctx.id}/export/${what}?format=json`, download: '' }, 'JSON')));
  return h('section', { class: 'card', 'aria-labelledby': 'export-heading' },
    h('h3', { id: 'export-heading' }, 'Export'),
    h('p', { class: 'hint' }, ctx.atLeast('captain')
      ? 'Files with a header row and fixed columns. A member export imports back unchanged.'
      : 'Files with a header row and fixed columns. Phone numbers are left empty for moderators.'),
    h('ul', {}, links));
}

function reportView(report) {
  const counts = `${report.rows} rows: ${report.added} to add, ${report.updated} to update, ${report.unchanged} unchanged, ${report.rejected} rejected.`;
  const done = `${report.rows} rows: ${report.added} added, ${report.updated} updated, ${report.unchanged} unchanged, ${report.rejected} rejected.`;
  return h('div', { class: report.rejected ? 'alert' : 'success', role: 'status', tabindex: '-1' },
    h('p', {}, h('strong', {}, report.dry_run ? `Dry run, nothing changed yet. ${counts}` : done)),
    report.warnings.length ? h('p', {}, `Not read: ${report.warnings.map((warning) => warning.column ?? warning.message ?? '').filter(Boolean).join(', ')}.`) : null,
    report.details.length ? h('ul', {}, report.details.slice(0, 50).map((row) => h('li', {},
      `Row ${row.row}: ${(report.dry_run ? WOULD : OUTCOMES)[row.outcome] ?? row.outcome}${row.reason ? ` (${row.reason})` : ''}`))) : null,
    report.details.length > 50 || report.details_truncated ? h('p', {}, 'More rows are in the report than shown here.') : null);
}

function importSection(ctx) {
  const file = field({ label: 'CSV file', name: 'file', type: 'file', required: true,
    hint: 'Columns name and phone (required), address, and one per join question, as a spreadsheet exports them.',
    attrs: { accept: '.csv,text/csv' } });
  const attest = field({ label: 'They agreed to receive the group\'s texts: add them as members now', name: 'attest_consent', type: 'checkbox',
    hint: 'Otherwise each new phone becomes a join request for a captain to approve.' });
  const check = h('button', { type: 'submit', class: 'primary' }, 'Check the file');
  const run = h('button', { type: 'button', hidden: true }, 'Import it');
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
      toast(`Imported: ${report.added} added, ${report.updated} updated.`);
      result.firstChild.focus();
    } catch (error) {
      result.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorText(error)));
    }
  }));
  file.control.addEventListener('change', () => { run.hidden = true; result.replaceChildren(); });
  attest.control.addEventListener('change', () => { run.hidden = true; });
  return h('section', { class: 'card', 'aria-labelledby': 'import-heading' },
    h('h3', { id: 'import-heading' }, 'Import from a spreadsheet'),
    h('p', { class: 'hint' }, 'A phone already here updates that person; nobody is added twice. Checking changes nothing.'),
    form);
}

export default function data(container, ctx) {
  container.append(
    h('h2', { id: 'tab-heading' }, 'Import & export'),
    ctx.atLeast('captain') && ctx.neighborhood.state !== 'archived' ? importSection(ctx) : null,
    exportSection(ctx));
}
