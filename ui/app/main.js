// The admin app's shell: who is signed in, the sandbox banner, and hash routes to the views.
// Each view is a module loaded on first use, so the first load stays small. The words come from
// the admin catalog (locales/app/<code>.ftl), loaded before anything is drawn.

import { api, whenSignedOut, errorText } from './api.js';
import { h, phoneText, toast } from './dom.js';
import { t, tParts, useLanguage, wanted, hasMessages } from './i18n.js';

const main = document.getElementById('main');
const account = document.getElementById('account');

const session = { me: null, health: { sandbox: false } };
let cleanup = null;
let rendering = 0;

/** Routes: pattern -> [module, view params]. Neighborhood pages share the frame in hood.js. */
const ROUTES = [
  [/^#\/signin$/, () => ({ module: './views/signin.js', params: {} })],
  [/^#\/new$/, () => ({ module: './views/create.js', params: {} })],
  [/^#\/n\/([0-9a-f-]{36})\/flyer$/, (m) => ({ module: './views/flyer.js', params: { id: m[1] } })],
  [/^#\/n\/([0-9a-f-]{36})(?:\/([a-z-]+))?$/, (m) => ({ module: './views/hood.js', params: { id: m[1], tab: m[2] ?? 'requests' } })],
  [/^(#\/?)?$/, () => ({ module: './views/home.js', params: {} })],
];

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

/** What every view gets. */
const ctx = {
  session,
  navigate,
  /** Sets the browser tab's title. */
  title(text) { document.title = text ? t('app-shell-title', { page: text }) : t('app-shell-title-home'); },
  async refreshMe() {
    session.me = await api('auth/me', { signedOutIsError: true }).catch(() => null);
    renderAccount();
    return session.me;
  },
};

function renderAccount() {
  const me = session.me;
  if (!me) {
    account.replaceChildren();
    return;
  }
  // `auth/session` ends this browser's session; `auth/sessions` every session of the phone,
  // on every device (a lost phone, a shared computer).
  const signOutButton = (label, path, title) => h('button', { class: 'link', type: 'button', title, onclick: async () => {
    try {
      await api(path, { method: 'DELETE' });
    } catch (error) {
      toast(errorText(error), { error: true });
      return;
    }
    session.me = null;
    renderAccount();
    navigate('#/signin');
  } }, label);
  const links = [
    h('a', { href: '#/' }, t('app-shell-neighborhoods')),
    me.phone ? h('span', { class: 'muted who' }, phoneText(me.phone)) : null,
    h('a', { href: '/docs' }, t('app-shell-api')),
    signOutButton(t('app-shell-sign-out'), 'auth/session', t('app-shell-sign-out-title')),
    me.kind === 'session'
      ? signOutButton(t('app-shell-sign-out-everywhere'), 'auth/sessions', t('app-shell-sign-out-everywhere-title'))
      : null,
  ];
  account.replaceChildren(...links.filter(Boolean));
}

async function route() {
  const ticket = ++rendering;
  if (typeof cleanup === 'function') cleanup();
  cleanup = null;
  const hash = location.hash || '#/';
  if (!session.me && hash !== '#/signin') {
    navigate('#/signin');
    return;
  }
  const found = ROUTES.map(([pattern, make]) => [pattern.exec(hash), make]).find(([m]) => m);
  if (!found) {
    ctx.title(t('app-shell-not-found-title'));
    main.replaceChildren(h('h1', {}, t('app-shell-not-found')), h('p', {}, h('a', { href: '#/' }, t('app-shell-back-home'))));
    return;
  }
  const { module, params } = found[1](found[0]);
  try {
    const view = await import(module);
    if (ticket !== rendering) return;
    const container = h('div', { class: 'view' });
    main.replaceChildren(container);
    const done = await view.default(container, ctx, params);
    if (ticket !== rendering) {
      if (typeof done === 'function') done();
      return;
    }
    cleanup = done;
    focusHeading(container);
  } catch (error) {
    if (ticket !== rendering) return;
    main.replaceChildren(
      h('h1', {}, t('app-shell-failed')),
      h('div', { class: 'alert', role: 'alert' }, h('p', {}, errorText(error))),
      h('p', {}, h('a', { href: '#/' }, t('app-shell-back-home'))),
    );
  }
}

/**
 * After a view change, focus lands on the view's heading (the open tab's, inside a
 * neighborhood), so a screen reader announces the new page and the next Tab starts there; a view
 * that already put focus somewhere of its own (the sign-in form's phone field) keeps it.
 */
function focusHeading(container) {
  if (container.contains(document.activeElement)) return;
  const heading = container.querySelector('#tab-heading') ?? container.querySelector('h1, h2');
  if (!heading) return;
  heading.setAttribute('tabindex', '-1');
  heading.focus({ preventScroll: false });
}

/** The page around the views (index.html), in the catalog's words. */
function shell() {
  document.querySelector('.skip').textContent = t('app-shell-skip');
  account.setAttribute('aria-label', t('app-shell-account'));
  document.getElementById('sandbox-banner').replaceChildren(...tParts('app-shell-sandbox-banner', {
    sandbox: h('strong', {}, t('app-shell-sandbox')),
    phones: h('a', { href: '/sandbox', target: '_blank', rel: 'noopener' }, t('app-shell-simulated-phones')),
  }));
  const loading = document.getElementById('loading');
  if (loading) loading.textContent = t('app-shell-loading');
}

async function start() {
  // The reader's language if the service has the admin app in it, else English; when even that
  // does not answer, the service is unreachable and index.html's own note says so.
  await useLanguage(wanted(), { catalog: 'app' });
  if (!hasMessages()) {
    document.getElementById('loading')?.remove();
    document.getElementById('load-failed').hidden = false;
    return;
  }
  shell();
  whenSignedOut(() => {
    session.me = null;
    renderAccount();
    if (location.hash !== '#/signin') {
      toast(t('app-shell-session-ended'));
      navigate('#/signin');
    }
  });
  session.health = await api('/health').catch(() => ({ sandbox: false }));
  document.getElementById('sandbox-banner').hidden = !session.health.sandbox;
  await ctx.refreshMe();
  window.addEventListener('hashchange', route);
  await route();
}

start();
