// Helpers for the browser journeys (tests/browser/journeys/*.mjs), run by run.mjs on behalf of
// tests/browser.rs. Playwright's core library drives the system's Chromium (never a browser
// of Playwright's own); assertions wait with Playwright's auto-waiting, never with sleeps.

import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, errors } from 'playwright-core';

/** Viewports: a small phone first (360 px), and a laptop. */
export const PHONE = { width: 360, height: 740 };
export const DESKTOP = { width: 1280, height: 800 };

/** How long an expectation or a code from the simulated phones is waited for. */
export const WAIT_MS = 15_000;

/** What run.mjs was given: { journey, base, base2, token, screenshots, extra }. */
export const config = { journey: 'journey', base: '', base2: '', token: '', screenshots: 'target/screenshots', extra: {} };

/** Problems seen in pages (uncaught exceptions, console errors); run.mjs fails the journey on any. */
export const pageProblems = [];

export class AssertionError extends Error {
  constructor(message) {
    super(message);
    this.name = 'AssertionError';
  }
}

/** Launches Debian's Chromium (`NT_CHROMIUM` overrides /usr/bin/chromium), headless. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.NT_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // Shared memory is small in containers; the network is closed to everything but the app, so
    // Chromium's own background connections only fail (Playwright already turns most of them off).
    args: ['--disable-dev-shm-usage', '--disable-background-networking', '--disable-quic'],
  });
}

/**
 * A page in a fresh context (no cookies shared with other pages) at `viewport`, with relative
 * URLs resolved against the app. Uncaught page exceptions and console errors are collected in
 * `pageProblems`; `allowConsoleErrors` lists patterns that are expected (e.g. a 404 the page
 * handles). Options: { viewport, allowConsoleErrors, ...any newContext option }.
 */
export async function newPage(browser, { viewport = PHONE, allowConsoleErrors = [], ...options } = {}) {
  const context = await browser.newContext({
    viewport,
    baseURL: config.base,
    locale: 'en-US',
    timezoneId: 'America/Los_Angeles',
    ...options,
  });
  context.setDefaultTimeout(WAIT_MS);
  const page = await context.newPage();
  watch(page, allowConsoleErrors);
  return page;
}

function watch(page, allowed) {
  page.on('pageerror', (error) => pageProblems.push(`${page.url()}: uncaught ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    // The browser logs every 4xx/5xx fetch; the journeys check what the page makes of them.
    if (/Failed to load resource: the server responded with a status of [45]\d\d/.test(text)) return;
    if (allowed.some((pattern) => pattern.test(text))) return;
    pageProblems.push(`${page.url()}: console error: ${text}`);
  });
}

/** Saves a PNG of the whole page as <screenshots>/<journey>/<name>.png; returns its path. */
export async function screenshot(page, name) {
  const dir = path.resolve(config.screenshots, config.journey);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name.replace(/[^a-z0-9_.-]+/gi, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  return file;
}

// ---- accessibility ----

/** The rules a view must pass: WCAG 2.0, 2.1 and 2.2 at levels A and AA. */
const WCAG_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
let axeSource = null;

/**
 * Runs axe-core (from npm, evaluated in the page through the DevTools protocol, which the app's
 * Content-Security-Policy does not govern) on the page as it is now and fails with every
 * violation found at WCAG 2.2 AA, naming `what` (the view and width) and the offending elements.
 */
export async function expectAccessible(page, what) {
  axeSource ??= await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async (tags) => {
    const result = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help}; ${v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join(', ')}`);
  }, WCAG_AA);
  if (violations.length) {
    throw new AssertionError(`${what}: ${violations.length} accessibility violation(s) at WCAG 2.2 AA:\n  ${violations.join('\n  ')}`);
  }
}

/**
 * What makes the page scroll sideways (it must not on a phone): its width, then the innermost
 * elements and the text reaching past its right edge; empty when nothing does.
 */
export const sideways = (page) => page.evaluate(() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  const past = (rect) => rect.right > width + 0.5;
  const over = [...document.body.querySelectorAll('*')].filter((node) => past(node.getBoundingClientRect()));
  const innermost = over.filter((node) => !over.some((other) => other !== node && node.contains(other)))
    .map((node) => `<${node.tagName.toLowerCase()} class="${node.className}"> ${(node.textContent ?? '').slice(0, 40)}`);
  // Text that does not wrap spills out of a box that itself fits.
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(text);
    if (past(range.getBoundingClientRect())) texts.push(`text in <${text.parentElement.tagName.toLowerCase()}>: ${text.data.slice(0, 60)}`);
  }
  return [`${document.documentElement.scrollWidth} px wide in ${width}`, ...innermost, ...texts];
});

// ---- the admin app ----

/**
 * Opens a neighborhood tab by its label ('Members', 'Settings', /^Join requests/): on a phone the
 * later tabs sit behind the bottom bar's "More" button, which is pressed first when needed.
 */
/** The phone's "More" button: "More", or the open tab's name when it is one of those behind it. */
export const MORE = /^More$|\(more pages\)$/;

export async function openTab(page, name) {
  const nav = page.getByRole('navigation', { name: 'Neighborhood' });
  await nav.waitFor();
  const link = nav.getByRole('link', { name });
  if (!(await link.isVisible())) await nav.getByRole('button', { name: MORE }).click();
  await link.click();
}

// ---- the API ----

/**
 * Calls the app over HTTP: `api('POST', '/api/v1/neighborhoods', body, { token })`. The admin
 * bearer token is sent unless `token` is given (null: anonymous). Resolves { status, body }.
 */
export async function api(method, urlPath, body, { token = config.token } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(new URL(urlPath, config.base), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: keep the text.
  }
  return { status: response.status, body: parsed };
}

/** GET /health: { status, sandbox, sandbox_admin_phone } (the phone that may sign in as admin). */
export async function health() {
  const answer = await api('GET', '/health', undefined, { token: null });
  expect(answer.status, 'GET /health').toBe(200);
  return answer.body;
}

/** Creates a neighborhood as the platform admin, expecting 201; returns it (NeighborhoodOut). */
export async function createNeighborhood(fields) {
  const answer = await api('POST', '/api/v1/neighborhoods', fields);
  expect(answer.status, `creating ${fields.name}: ${JSON.stringify(answer.body)}`).toBe(201);
  return answer.body;
}

// ---- the simulated phones ----

const CODE = /\b(\d{6})\b/;
const sandboxTabs = new WeakMap(); // BrowserContext -> Promise<Page> of its /sandbox tab

/** The /sandbox page in a tab of its own in `context`, opened once and reused. */
export function sandboxTab(context) {
  if (!sandboxTabs.has(context)) {
    sandboxTabs.set(context, (async () => {
      const tab = await context.newPage();
      watch(tab, []);
      await tab.goto(new URL('/sandbox', config.base).href);
      // Counting texts before the phones have loaded would count none, and an older code would
      // then pass for the one just asked for.
      await tab.locator('#phones:not([aria-busy])').waitFor({ state: 'attached' });
      return tab;
    })());
  }
  return sandboxTabs.get(context);
}

/**
 * The texts received by `phone` on the /sandbox page, oldest first (a Locator of <li>). The list
 * is named "Texts received by +1…", or "Texts received by Ana (+1…)" once the phone's member is
 * known.
 */
export function inboxItems(tab, phone) {
  const number = phone.replace(/[+]/g, '\\+');
  const name = new RegExp(`^Texts received by (${number}|.+ \\(${number}\\))$`);
  return tab.getByRole('list', { name }).getByRole('listitem');
}

// Matched on the message's own text: the sender and time before it would spoil a \b.
const textsMatching = (tab, phone, matching) => inboxItems(tab, phone)
  .filter({ has: tab.locator('.text', { hasText: matching }) });

/**
 * The newest 6-digit code texted to `phone`, read the way a person would: on the /sandbox page,
 * in its own tab (`source` is a Page or a BrowserContext). Waits until `phone` has received at
 * least `atLeast` texts matching `matching` (so after asking for a second code, pass 2), and
 * returns the code in the newest of them. `source` may also be a base URL string: then the
 * sandbox's JSON state (/sandbox/api/state) is polled instead, for journeys without a browser.
 */
export async function latestCode(source, phone, { atLeast = 1, matching = CODE, timeout = WAIT_MS } = {}) {
  if (typeof source === 'string') return latestCodeFromState(source, phone, { atLeast, matching, timeout });
  const context = typeof source.context === 'function' ? source.context() : source;
  const tab = await sandboxTab(context);
  const texts = textsMatching(tab, phone, matching);
  try {
    await texts.nth(atLeast - 1).waitFor({ timeout });
  } catch (error) {
    if (!(error instanceof errors.TimeoutError)) throw error;
    const seen = await inboxItems(tab, phone).allTextContents();
    throw new AssertionError(`no text with a code (${atLeast} wanted) reached ${phone} within ${timeout} ms; its inbox: ${JSON.stringify(seen)}`);
  }
  const newest = await texts.last().locator('.text').textContent();
  // Back to the page that asked, as a person would: a background tab gets few animation frames,
  // which makes every click there wait for the element to be "stable".
  if (source !== context) await source.bringToFront();
  return codeIn(newest, matching);
}

/** How many texts matching `matching` `phone` has on the /sandbox page now. */
export async function codeCount(source, phone, { matching = CODE } = {}) {
  const context = typeof source.context === 'function' ? source.context() : source;
  const tab = await sandboxTab(context);
  await tab.getByRole('heading', { name: 'Simulated phones' }).waitFor();
  return textsMatching(tab, phone, matching).count();
}

async function latestCodeFromState(base, phone, { atLeast, matching, timeout }) {
  let texts = [];
  await poll(async () => {
    const response = await fetch(new URL('/sandbox/api/state', base));
    const state = await response.json();
    const entry = (state.phones ?? []).find((candidate) => candidate.phone === phone);
    texts = (entry?.inbox ?? []).map((text) => text.body ?? '').filter((body) => matching.test(body));
    return texts.length >= atLeast;
  }, { timeout, message: () => `no text with a code (${atLeast} wanted) reached ${phone}; it has ${JSON.stringify(texts)}` });
  return codeIn(texts[texts.length - 1], matching);
}

function codeIn(text, matching) {
  const match = new RegExp(matching.source, matching.flags.replace('g', '')).exec(text ?? '');
  const code = /\d{6}/.exec(match?.[1] ?? match?.[0] ?? '')?.[0];
  if (!code) throw new AssertionError(`no 6-digit code in ${JSON.stringify(text)}`);
  return code;
}

/**
 * Runs `check` until it returns true (expect.poll-style, for state outside any page, e.g. over
 * HTTP), failing with `message()` after `timeout`. Inside pages use locators: they wait by themselves.
 */
export async function poll(check, { timeout = WAIT_MS, message = () => 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let delay = 25;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new AssertionError(`timed out after ${timeout} ms: ${message()}`);
    await new Promise((resolve) => { setTimeout(resolve, delay); });
    delay = Math.min(delay * 2, 250);
  }
}

// ---- expectations ----

const isLocator = (value) => value && typeof value.waitFor === 'function' && typeof value.filter === 'function';
const show = (value) => (value instanceof RegExp ? String(value) : JSON.stringify(value));
const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const squash = (text) => (text ?? '').replace(/\s+/g, ' ').trim();

/**
 * expect(value, what).toBe(x) | toEqual(x) | toContain(x) | toMatch(re) | toBeTruthy()
 * await expect(locator, what).toBeVisible() | toBeHidden() | toHaveText(textOrRe) |
 *   toContainText(textOrRe) | toHaveValue(text) | toHaveAttribute(name, value) | toBeFocused() |
 *   toHaveCount(n) | toHaveDescription(textOrRe)
 * Locator expectations wait (up to WAIT_MS, or { timeout }) for the page to get there; each
 * failure throws an AssertionError naming `what`, what was expected and what was found.
 */
export function expect(actual, what = '') {
  const label = what ? `${what}: ` : '';
  if (isLocator(actual)) return locatorExpectations(actual, label);
  const fail = (expectation) => {
    throw new AssertionError(`${label}expected ${show(actual)} ${expectation}`);
  };
  return {
    toBe(expected) { if (!Object.is(actual, expected)) fail(`to be ${show(expected)}`); },
    toEqual(expected) { if (JSON.stringify(actual) !== JSON.stringify(expected)) fail(`to equal ${show(expected)}`); },
    toContain(expected) { if (!actual?.includes?.(expected)) fail(`to contain ${show(expected)}`); },
    toMatch(expected) { if (!expected.test(String(actual))) fail(`to match ${show(expected)}`); },
    toBeTruthy() { if (!actual) fail('to be truthy'); },
  };
}

function locatorExpectations(locator, label) {
  const page = locator.page();
  const fail = async (expectation, timeout, found) => {
    let actual;
    try {
      actual = await found();
    } catch {
      actual = 'no such element';
    }
    throw new AssertionError(`${label}expected ${locator} ${expectation} within ${timeout} ms; found ${actual}`);
  };
  // Waits for `condition`, a locator that matches once the expectation holds.
  const until = async (condition, expectation, found, { timeout = WAIT_MS, state = 'attached' } = {}) => {
    try {
      await condition.first().waitFor({ state, timeout });
    } catch (error) {
      if (!(error instanceof errors.TimeoutError)) throw error;
      await fail(expectation, timeout, found);
    }
  };
  // Waits until `predicate([element, arg])` holds in the page for the locator's first element.
  const holds = async (predicate, arg, expectation, found, { timeout = WAIT_MS } = {}) => {
    const deadline = Date.now() + timeout;
    try {
      const handle = await locator.first().elementHandle({ timeout });
      await page.waitForFunction(predicate, [handle, arg], { timeout: Math.max(1, deadline - Date.now()) });
    } catch (error) {
      if (!(error instanceof errors.TimeoutError)) throw error;
      await fail(expectation, timeout, found);
    }
  };
  const text = () => locator.first().textContent({ timeout: 1000 }).then((t) => show(squash(t)));
  const exactly = (expected) => (expected instanceof RegExp
    ? expected
    : new RegExp(`^\\s*${escapeRegExp(squash(expected)).replace(/ /g, '\\s+')}\\s*$`));
  return {
    toBeVisible: (options) => until(locator, 'to be visible',
      async () => ((await locator.count()) ? 'it hidden' : 'no such element'), { ...options, state: 'visible' }),
    toBeHidden: (options) => until(locator, 'to be hidden', async () => 'it visible', { ...options, state: 'hidden' }),
    toHaveText: (expected, options) => until(locator.filter({ hasText: exactly(expected) }),
      `to have text ${show(expected)}`, text, options),
    toContainText: (expected, options) => until(locator.filter({ hasText: expected }),
      `to contain text ${show(expected)}`, text, options),
    // `null`: the attribute is absent.
    toHaveAttribute: (name, expected, options) => until(
      locator.and(page.locator(expected === null ? `:not([${name}])` : `[${name}=${JSON.stringify(expected)}]`)),
      `to have ${name}=${show(expected)}`,
      () => locator.first().getAttribute(name, { timeout: 1000 }).then((v) => `${name}=${show(v)}`), options),
    toBeFocused: (options) => until(locator.and(page.locator(':focus')), 'to be focused', () => page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return 'no focus';
      const name = el.getAttribute('name');
      return `focus on <${el.tagName.toLowerCase()}${el.id ? ` id="${el.id}"` : ''}${name ? ` name="${name}"` : ''}>`;
    }), options),
    toHaveCount: async (count, { timeout = WAIT_MS } = {}) => {
      const found = async () => `${await locator.count()} matches`;
      if (count > 0) await until(locator.nth(count - 1), `to have ${count} matches`, found, { timeout });
      await until(locator.nth(count), `to have ${count} matches`, found, { timeout, state: 'detached' });
    },
    toHaveValue: (expected, options) => holds(([el, want]) => el.value === want, expected,
      `to have value ${show(expected)}`, () => locator.first().inputValue({ timeout: 1000 }).then(show), options),
    /** What assistive technology reads after the name: the text of the aria-describedby elements. */
    toHaveDescription: (expected, options) => holds(([el, want]) => {
      const described = (el.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean)
        .map((id) => document.getElementById(id)).filter((node) => node && !node.hidden)
        .map((node) => node.textContent).join(' ').replace(/\s+/g, ' ').trim();
      return want.source === undefined ? described.includes(want) : new RegExp(want.source, want.flags).test(described);
    }, expected instanceof RegExp ? { source: expected.source, flags: expected.flags } : expected,
    `to be described by ${show(expected)}`, () => locator.first().evaluate((el) => (el.getAttribute('aria-describedby') ?? '')
      .split(/\s+/).filter(Boolean).map((id) => document.getElementById(id)).filter((node) => node && !node.hidden)
      .map((node) => node.textContent).join(' ')).then((t) => show(squash(t))), options),
  };
}
