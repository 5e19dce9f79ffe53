// Quiet hours (Settings, captains): a daily window in the neighborhood's own time zone when
// announcements wait for its end, unless a captain marks one urgent. Saved on its own through
// PATCH /neighborhoods/{id} (`quiet_hours`, or null to turn them off), like the other parts.

import { api } from '../../../api.js';
import { h, field, clearErrors, showErrors, busy, uid } from '../../../dom.js';
import { t } from '../../../i18n.js';

/** The browser's own zone, the likeliest answer for a captain setting this up at home. */
function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

function knownZones() {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return [];
  }
}

/** "21:00" as the browser shows it in a time input ("9:00 PM" in the US), so both read alike. */
function clockText(hhmm) {
  const [hours, minutes] = hhmm.split(':').map(Number);
  return new Date(2000, 0, 1, hours, minutes).toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
}

function describe(quiet) {
  if (!quiet) return t('app-quiet-none');
  return t(quiet.now ? 'app-quiet-summary-now' : 'app-quiet-summary',
    { start: clockText(quiet.start), end: clockText(quiet.end), zone: quiet.time_zone });
}

export function quietHoursSection(ctx) {
  const current = ctx.neighborhood.quiet_hours;
  const enabled = field({ label: t('app-quiet-enabled'), name: 'quiet_hours_enabled', type: 'checkbox',
    value: Boolean(current), hint: t('app-quiet-enabled-hint') });
  const start = field({ label: t('app-quiet-start'), name: 'quiet_hours.start', type: 'time', value: current?.start ?? '21:00', required: true });
  const end = field({ label: t('app-quiet-end'), name: 'quiet_hours.end', type: 'time', value: current?.end ?? '08:00', required: true,
    hint: t('app-quiet-end-hint', { start: clockText('22:00'), end: clockText('07:00') }) });
  const zonesId = uid('zones');
  const zone = field({ label: t('app-quiet-zone'), name: 'quiet_hours.time_zone', value: current?.time_zone ?? browserZone(), required: true,
    hint: t('app-quiet-zone-hint'),
    attrs: { list: zonesId, autocomplete: 'off', spellcheck: 'false' } });
  const zones = h('datalist', { id: zonesId }, knownZones().map((name) => h('option', { value: name })));
  const times = h('div', { class: 'row' }, start, end);
  const summary = h('p', { class: 'hint' }, describe(current));
  const saved = h('p', { class: 'hint', role: 'status' });
  const submit = h('button', { class: 'primary', type: 'submit' }, t('app-quiet-save'));
  const showTimes = () => {
    const on = enabled.control.checked;
    for (const part of [times, zone]) part.hidden = !on;
  };
  enabled.control.addEventListener('change', showTimes);
  showTimes();
  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    saved.textContent = '';
    const quiet = enabled.control.checked
      ? { start: start.control.value, end: end.control.value, time_zone: zone.control.value.trim() }
      : null;
    await busy(submit, async () => {
      try {
        const updated = await api(`neighborhoods/${ctx.id}`, { method: 'PATCH', body: { quiet_hours: quiet } });
        summary.textContent = describe(updated.quiet_hours);
        await ctx.reloadNeighborhood();
        saved.textContent = t('app-settings-saved-at', { time: new Date().toLocaleTimeString() });
      } catch (error) {
        showErrors(form, error);
      }
    });
  } }, summary, enabled, times, zone, zones, h('div', { class: 'actions' }, submit, saved));
  return h('section', { class: 'card', id: 'quiet', 'aria-labelledby': 'quiet-heading' },
    h('h3', { id: 'quiet-heading', tabindex: '-1' }, t('app-quiet-title')), form);
}
