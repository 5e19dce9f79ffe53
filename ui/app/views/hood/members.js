// Members: one compact row per person (a table on desktop, a dense list on phones), A to Z and
// "In the group" by default, a search that ignores accents and phone formatting, details that
// open under a row, ticking rows to change many at once, and pages that load as you scroll.

import { api, errorText } from '../../api.js';
import { h, field, toast, busy } from '../../dom.js';
import { coalesce } from '../../live.js';
import { STATUS, ROLES, memberRow, detailsRow } from './members/rows.js';
import { bulkBar } from './members/bulk.js';
import { t, tCount } from '../../i18n.js';

const PAGE = 100;
/** The API's largest page: a reload of more rows than this takes several requests. */
const MAX_PAGE = 500;
const SORTS = [['name', 'app-members-sort-name'], ['newest', 'app-members-sort-newest'], ['oldest', 'app-members-sort-oldest']];

export default async function members(container, ctx) {
  const canManage = ctx.atLeast('captain');
  // Phones hide the street, role and texts columns (app.css); a details row spans only the
  // columns shown, or the hidden ones would take room from the name.
  const narrow = matchMedia('(max-width: 39.99rem)');
  const columns = () => (canManage ? 1 : 0) + (narrow.matches ? 2 : 5);
  const search = field({ label: t('app-members-search'), name: 'q', type: 'search', attrs: {
    autocomplete: 'off', placeholder: t(canManage ? 'app-members-search-placeholder-captain' : 'app-members-search-placeholder'),
  } });
  const statusOptions = [['', t('app-members-any-status')], ...Object.entries(STATUS).map(([value, [text]]) => [value, t(text)])];
  const status = field({ label: t('app-members-status'), name: 'status', type: 'select', value: 'active', options: statusOptions });
  const roleOptions = [['', t('app-members-any-role')], ...ROLES.map(([value, text]) => [value, t(text)]), ['owner', t('app-role-owner')]];
  const role = field({ label: t('app-members-role'), name: 'role', type: 'select', value: '', options: roleOptions });
  const sort = field({ label: t('app-members-sort'), name: 'sort', type: 'select', value: 'name',
    options: SORTS.map(([value, text]) => [value, t(text)]) });
  const count = h('p', { class: 'muted member-count', role: 'status', tabindex: '-1' });
  const caption = h('caption', { class: 'vh' });
  const selectAll = canManage
    ? h('input', { type: 'checkbox', 'aria-label': t('app-members-select-all'), 'data-focus': 'select-all' })
    : null;
  const tbody = h('tbody', {});
  const table = h('table', { class: 'member-table' },
    caption,
    h('thead', {}, h('tr', {},
      canManage ? h('th', { scope: 'col', class: 'pick' }, h('label', { class: 'pick-target' }, selectAll)) : null,
      h('th', { scope: 'col' }, t('app-members-column-name')),
      h('th', { scope: 'col', class: 'wide' }, t('app-members-column-street')),
      h('th', { scope: 'col', class: 'wide' }, t('app-members-column-role')),
      h('th', { scope: 'col', class: 'state' }, t('app-members-column-status')),
      h('th', { scope: 'col', class: 'wide' }, t('app-members-column-texts')))),
    tbody);
  const empty = h('p', { class: 'empty', hidden: true }, t('app-members-no-match'));
  const shownText = h('p', { class: 'muted' });
  const more = h('button', { type: 'button', hidden: true }, t('app-members-more', { count: PAGE }));
  const footer = h('div', { class: 'member-more' }, shownText, more);

  let items = [];
  let total = 0;
  let nextAfter = null;
  let openId = null;
  /** Bumped when the filters change, so an answer to an older query is dropped. */
  let generation = 0;
  const selected = new Set();
  /** Rows already built, by member id, kept while the member's record stays the same. */
  const built = new Map();

  const selection = {
    has: (id) => selected.has(id),
    ids: () => [...selected],
    toggle(id, on) {
      if (on) selected.add(id); else selected.delete(id);
      showSelection();
    },
    clear() {
      selected.clear();
      for (const box of tbody.querySelectorAll('input[type="checkbox"]')) box.checked = false;
      showSelection();
    },
  };
  const nameOf = (id) => items.find((member) => member.id === id)?.display_name ?? t('app-members-someone');
  const bar = canManage
    ? bulkBar(ctx, { selection, nameOf, changed: () => refresh(), focusAway: () => count.focus() })
    : null;

  container.append(
    h('h2', { id: 'tab-heading' }, t('app-members-title')),
    h('div', { class: 'filters member-filters', role: 'search' }, search, status, role, sort),
    count, bar, table, empty, footer);

  function showSelection() {
    if (!canManage) return;
    const shown = items.filter((member) => selected.has(member.id)).length;
    selectAll.checked = items.length > 0 && shown === items.length;
    selectAll.indeterminate = shown > 0 && shown < items.length;
    bar.update(selected.size);
  }

  selectAll?.addEventListener('change', () => {
    for (const member of items) {
      if (selectAll.checked) selected.add(member.id); else selected.delete(member.id);
    }
    for (const box of tbody.querySelectorAll('tr[data-member] input[type="checkbox"]')) box.checked = selectAll.checked;
    showSelection();
  });

  function toggle(id) {
    const closing = openId === id;
    openId = closing ? null : id;
    render();
    // The button that opened the details keeps focus; Tab goes on into them.
    tbody.querySelector(`tr[data-member="${id}"] [data-focus="toggle"]`)?.focus();
  }

  /** A change made in a details row worked: say so, and reload what is shown. */
  async function changed(message) {
    await refresh();
    if (message) toast(message);
  }

  function rowFor(member) {
    const json = JSON.stringify(member);
    let entry = built.get(member.id);
    if (!entry || entry.json !== json) {
      entry = { json, row: memberRow(member, { selection: canManage ? selection : null, onToggle: toggle }) };
      built.set(member.id, entry);
    }
    const open = openId === member.id;
    entry.row.querySelector('[data-focus="toggle"]').setAttribute('aria-expanded', String(open));
    if (open && !entry.details) {
      entry.details = detailsRow(member, { columns: columns(), ctx, manage: canManage, changed, onClose: toggle });
    }
    if (!open) entry.details = null;
    const box = entry.row.querySelector('input[type="checkbox"]');
    if (box) box.checked = selected.has(member.id);
    return open ? [entry.row, entry.details] : [entry.row];
  }

  /** Where focus is in the table, to put it back on the same control after rows are rebuilt. */
  function focusSpot() {
    const active = document.activeElement;
    if (!active || !tbody.contains(active)) return null;
    const holder = active.closest('[data-member], [data-details]');
    return {
      id: holder?.dataset.member ?? holder?.dataset.details,
      key: active.dataset.focus,
      inDetails: Boolean(holder?.dataset.details),
    };
  }

  function restoreFocus(spot) {
    if (!spot || tbody.contains(document.activeElement)) return;
    const row = tbody.querySelector(`tr[data-member="${spot.id}"]`);
    const details = tbody.querySelector(`tr[data-details="${spot.id}"]`);
    const scope = spot.inDetails ? details : row;
    const target = (spot.key && scope?.querySelector(`[data-focus="${spot.key}"]`))
      ?? (spot.inDetails ? details?.querySelector('[data-focus="heading"]') : null)
      ?? row?.querySelector('[data-focus="toggle"]')
      ?? count;
    target.focus();
  }

  /** Puts the loaded members on screen, moving as few rows as possible (focus stays put). */
  function render() {
    const spot = focusSpot();
    const ids = new Set(items.map((member) => member.id));
    for (const id of built.keys()) if (!ids.has(id)) built.delete(id);
    if (openId && !ids.has(openId)) openId = null;
    for (const id of selected) if (!ids.has(id)) selected.delete(id);
    const wanted = items.flatMap(rowFor);
    let cursor = tbody.firstChild;
    for (const node of wanted) {
      if (node === cursor) {
        cursor = cursor.nextSibling;
      } else {
        tbody.insertBefore(node, cursor);
      }
    }
    while (cursor) {
      const next = cursor.nextSibling;
      cursor.remove();
      cursor = next;
    }
    table.hidden = items.length === 0;
    empty.hidden = items.length > 0;
    more.hidden = !nextAfter;
    shownText.textContent = items.length < total ? t('app-members-showing', { shown: items.length, total }) : '';
    restoreFocus(spot);
    showSelection();
  }

  const query = () => ({
    q: search.control.value.trim(),
    status: status.control.value,
    role: role.control.value,
    sort: sort.control.value,
  });

  function showCounts(page) {
    const counts = page.counts;
    const filters = query();
    // The default view counts what the home page counts, in its words.
    if (filters.status === 'active' && !filters.q && !filters.role) {
      count.textContent = counts.paused
        ? tCount(counts.active, 'app-members-count-paused-one', 'app-members-count-paused-other', { paused: counts.paused })
        : tCount(counts.active, 'app-members-count-one', 'app-members-count-other');
    } else {
      count.textContent = tCount(page.total, 'app-members-matches-one', 'app-members-matches-other');
    }
    const sorted = SORTS.find(([value]) => value === filters.sort)?.[1];
    caption.textContent = t('app-members-caption', { sort: sorted ? t(sorted) : '' });
  }

  const fetchPage = (after, limit) => api(`neighborhoods/${ctx.id}/members`, { query: { ...query(), after, limit } });

  // Reloads as many rows as are shown (at least a page), for a new filter or a live update.
  const refresh = coalesce(async () => {
    const asked = generation;
    try {
      const wanted = fromTheTop ? PAGE : Math.max(items.length, PAGE);
      let page = await fetchPage(null, Math.min(wanted, MAX_PAGE));
      const loaded = [...page.items];
      while (page.next_after && loaded.length < wanted) {
        page = await fetchPage(page.next_after, Math.min(wanted - loaded.length, MAX_PAGE));
        loaded.push(...page.items);
      }
      if (asked !== generation) return;
      fromTheTop = false;
      items = loaded;
      total = page.total;
      nextAfter = page.next_after ?? null;
      showCounts(page);
      render();
    } catch (error) {
      count.replaceChildren(h('span', { class: 'alert', role: 'alert' }, errorText(error)));
    }
  });

  let loading = false;
  async function loadMore() {
    if (loading || !nextAfter) return;
    loading = true;
    const asked = generation;
    try {
      await busy(more, async () => {
        const page = await fetchPage(nextAfter, PAGE);
        if (asked !== generation) return;
        const known = new Set(items.map((member) => member.id));
        items = [...items, ...page.items.filter((member) => !known.has(member.id))];
        total = page.total;
        nextAfter = page.next_after ?? null;
        render();
      });
    } catch (error) {
      toast(errorText(error), { error: true });
    } finally {
      loading = false;
    }
  }
  more.addEventListener('click', loadMore);
  // Scrolling near the end loads the next page; the button stays for keyboards.
  const nearEnd = new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting)) loadMore();
  }, { rootMargin: '600px 0px' });
  nearEnd.observe(footer);

  // New filters: the rows on screen stay (an open one too, if it still matches) until the
  // first page of the new answer replaces them.
  let fromTheTop = false;
  function restart() {
    generation += 1;
    fromTheTop = true;
    refresh();
  }
  let typing = null;
  search.control.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(restart, 250);
  });
  for (const select of [status, role, sort]) select.control.addEventListener('change', restart);

  const fitDetails = () => {
    for (const cell of tbody.querySelectorAll('tr[data-details] > td')) cell.colSpan = columns();
  };
  narrow.addEventListener('change', fitDetails);

  await refresh();
  const stop = ctx.live.on('member', refresh);
  return () => {
    clearTimeout(typing);
    nearEnd.disconnect();
    narrow.removeEventListener('change', fitDetails);
    stop();
  };
}
