// Quiet hours (Settings, captains): a daily window in the neighborhood's own time zone when
// announcements wait for its end, unless a captain marks one urgent. Saved on its own through
// PATCH /neighborhoods/{id} (`quiet_hours`, or null to turn them off), like the other parts.

import { api } from '../../../api.js';
import { h, field, clearErrors, showErrors, busy, uid } from '../../../dom.js';

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
  if (!quiet) return 'No quiet hours: announcements go out when they are due, day or night.';
  const now = quiet.now ? ' It is quiet hours now.' : '';
  return `Announcements wait from ${clockText(quiet.start)} until ${clockText(quiet.end)} (${quiet.time_zone}), unless marked urgent.${now}`;
}

export function quietHoursSection(ctx) {
  const current = ctx.neighborhood.quiet_hours;
  const enabled = field({ label: 'Hold announcements during quiet hours', name: 'quiet_hours_enabled', type: 'checkbox',
    value: Boolean(current), hint: 'Scheduled and new announcements wait for the end of quiet hours; urgent ones go at once.' });
  const start = field({ label: 'Quiet from', name: 'quiet_hours.start', type: 'time', value: current?.start ?? '21:00', required: true });
  const end = field({ label: 'Until', name: 'quiet_hours.end', type: 'time', value: current?.end ?? '08:00', required: true,
    hint: `May cross midnight, like ${clockText('22:00')} until ${clockText('07:00')}.` });
  const zonesId = uid('zones');
  const zone = field({ label: 'Time zone', name: 'quiet_hours.time_zone', value: current?.time_zone ?? browserZone(), required: true,
    hint: 'A name like America/Los_Angeles; daylight saving time is followed.',
    attrs: { list: zonesId, autocomplete: 'off', spellcheck: 'false' } });
  const zones = h('datalist', { id: zonesId }, knownZones().map((name) => h('option', { value: name })));
  const times = h('div', { class: 'row' }, start, end);
  const summary = h('p', { class: 'hint' }, describe(current));
  const saved = h('p', { class: 'hint', role: 'status' });
  const submit = h('button', { class: 'primary', type: 'submit' }, 'Save quiet hours');
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
        saved.textContent = `Saved at ${new Date().toLocaleTimeString()}.`;
      } catch (error) {
        showErrors(form, error);
      }
    });
  } }, summary, enabled, times, zone, zones, h('div', { class: 'actions' }, submit, saved));
  return h('section', { class: 'card', id: 'quiet', 'aria-labelledby': 'quiet-heading' },
    h('h3', { id: 'quiet-heading', tabindex: '-1' }, 'Quiet hours'), form);
}
