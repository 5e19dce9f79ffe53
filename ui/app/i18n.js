// Words in the reader's language, from the service's own catalogs. The public pages load
// GET /locales/{code}: the `page-…` messages of locales/<code>.ftl, with the `app-shared-…` ones
// that the modules they share with the admin app (dom.js, api.js) use. The admin app loads
// GET /locales/{code}?catalog=app: every message of locales/app/<code>.ftl, English filling in
// what a language lacks. A message is text with variables written {$name}, filled here; text is
// only ever set with textContent.
//
// Plurals: a message that counts comes as two, `…-one` and `…-other`, and `tCount` picks one
// by the number (English needs no more; a language that does would say so here first).

const STORED = 'neighborhood-text.language';
let messages = {};
let current = 'en';
let loaded = false;

/** The language codes to try, most wanted first: ?lang=, the last choice here, the browser's. */
export function wanted() {
  const fromQuery = new URLSearchParams(location.search).get('lang');
  let stored = null;
  try { stored = localStorage.getItem(STORED); } catch { /* storage unavailable */ }
  const browser = (navigator.languages?.length ? navigator.languages : [navigator.language ?? 'en']);
  return [fromQuery, stored, ...browser, 'en']
    .filter(Boolean)
    .map((tag) => tag.toLowerCase().split(/[-_]/)[0]);
}

/**
 * Loads the first of `codes` the service ships; English when none answers. `catalog: 'app'`
 * loads the admin app's messages instead of the public pages'.
 */
export async function useLanguage(codes, { remember = false, catalog = null } = {}) {
  const query = catalog ? `?catalog=${encodeURIComponent(catalog)}` : '';
  for (const code of codes) {
    try {
      const response = await fetch(`/locales/${encodeURIComponent(code)}${query}`, { headers: { accept: 'application/json' } });
      if (!response.ok) continue;
      const answer = await response.json();
      messages = answer.messages ?? {};
      current = answer.language ?? code;
      loaded = true;
      document.documentElement.lang = current;
      if (remember) {
        try { localStorage.setItem(STORED, current); } catch { /* storage unavailable */ }
      }
      return current;
    } catch {
      // Offline or refused: try the next, and at worst show the ids' English fallbacks.
    }
  }
  return current;
}

/** The language in use. */
export const language = () => current;

/** Whether a catalog loaded at all (the service answered). */
export const hasMessages = () => loaded;

/** Message `id` with `vars` filled in. */
export function t(id, vars = {}) {
  const pattern = messages[id];
  if (typeof pattern !== 'string') return id;
  return pattern.replace(/\{\$(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

/**
 * Message `id` as pieces to append: a variable whose value is a Node (a link, a <strong>) goes
 * in as that node, the rest as text. For a sentence with a link in it, kept whole for translators.
 */
export function tParts(id, vars = {}) {
  const pattern = messages[id];
  if (typeof pattern !== 'string') return [id];
  return pattern.split(/(\{\$\w+\})/).filter((part) => part !== '').map((part) => {
    const variable = /^\{\$(\w+)\}$/.exec(part);
    if (!variable) return part;
    const value = vars[variable[1]];
    return typeof Node !== 'undefined' && value instanceof Node ? value : String(value ?? '');
  });
}

/** `oneId` for a count of 1, `otherId` for any other, with `{$count}` and `vars` filled in. */
export function tCount(count, oneId, otherId, vars = {}) {
  return t(count === 1 ? oneId : otherId, { count, ...vars });
}
