// The admin app's shell: who is signed in, the sandbox banner, and hash routes to the views.
// Each view is a module loaded on first use, so the first load stays small.

import { api, whenSignedOut, errorText } from './api.js';
import { h, phoneText, toast } from './dom.js';

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
  title(text) { document.title = text ? `${text} · neighborhood-text` : 'neighborhood-text'; },
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
    h('a', { href: '#/' }, 'Neighborhoods'),
    me.phone ? h('span', { class: 'muted who' }, phoneText(me.phone)) : null,
    h('a', { href: '/docs' }, 'API'),
    signOutButton('Sign out', 'auth/session', 'Sign out of this browser'),
    me.kind === 'session'
      ? signOutButton('Sign out everywhere', 'auth/sessions', 'End every session of this phone, on every device')
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
    ctx.title('Not found');
    main.replaceChildren(h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '#/' }, 'Back to your neighborhoods')));
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
      h('h1', {}, 'This page could not load'),
      h('div', { class: 'alert', role: 'alert' }, h('p', {}, errorText(error))),
      h('p', {}, h('a', { href: '#/' }, 'Back to your neighborhoods')),
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

async function start() {
  whenSignedOut(() => {
    session.me = null;
    renderAccount();
    if (location.hash !== '#/signin') {
      toast('Your session ended. Please sign in again.');
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
