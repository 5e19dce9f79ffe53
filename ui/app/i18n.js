// The public pages' words in the neighbor's language, from the service's own catalogs
// (GET /locales/{code}: the `page-…` messages of locales/<code>.ftl). A message is text with
// variables written {$name}, filled here; text is only ever set with textContent.

const STORED = 'neighborhood-text.language';
let messages = {};
let current = 'en';

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

/** Loads the first of `codes` the service ships; English when none answers. */
export async function useLanguage(codes, { remember = false } = {}) {
  for (const code of codes) {
    try {
      const response = await fetch(`/locales/${encodeURIComponent(code)}`, { headers: { accept: 'application/json' } });
      if (!response.ok) continue;
      const catalog = await response.json();
      messages = catalog.messages ?? {};
      current = catalog.language ?? code;
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

/** Message `id` with `vars` filled in. */
export function t(id, vars = {}) {
  const pattern = messages[id];
  if (typeof pattern !== 'string') return id;
  return pattern.replace(/\{\$(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}
