// Runs one browser journey against a running app:
//   node tests/browser/run.mjs <journey> '{"base": "http://127.0.0.1:PORT", "token": "ntk_...",
//                                        "screenshots": "target/screenshots"}'
// A journey is tests/browser/journeys/<journey>.mjs whose default export is
// `async (t) => {}` with t = { browser, base, base2, token, extra } (base2: a second instance on the
// same Redis, for journeys that ask for one; extra: what the Rust test adds for its journey, such as
// the address of a stand-in it runs); it imports what it needs from
// ../lib.mjs. Exits 0 when the journey passes, 1 with the reason (and failure screenshots of every
// open page) when an assertion fails, the page throws or logs an error, or anything else breaks.

import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { AssertionError, config, launch, pageProblems, screenshot } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

async function main() {
  const [journey, rawArgs = '{}'] = process.argv.slice(2);
  const available = (await readdir(path.join(here, 'journeys'))).filter((f) => f.endsWith('.mjs')).map((f) => f.slice(0, -4));
  if (!journey || !available.includes(journey)) {
    console.error(`usage: node run.mjs <journey> '<json args>'; journeys: ${available.join(', ')}`);
    return 2;
  }
  const args = JSON.parse(rawArgs);
  if (!args.base) throw new Error('the args need "base", the app\'s URL');
  Object.assign(config, {
    journey,
    base: args.base.replace(/\/+$/, ''),
    base2: (args.base2 ?? '').replace(/\/+$/, ''),
    token: args.token ?? '',
    screenshots: args.screenshots ?? 'target/screenshots',
    extra: args.extra ?? {},
  });

  // Screenshots of an earlier run (a FAILED-n.png above all) would mislead.
  await rm(path.resolve(config.screenshots, journey), { recursive: true, force: true });
  const { default: run } = await import(pathToFileURL(path.join(here, 'journeys', `${journey}.mjs`)).href);
  const started = Date.now();
  const browser = await launch();
  try {
    await run({ browser, base: config.base, base2: config.base2, token: config.token, extra: config.extra });
    if (pageProblems.length) throw new AssertionError(`the pages reported errors:\n  ${pageProblems.join('\n  ')}`);
    console.log(`journey ${journey} passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  } catch (error) {
    console.error(`journey ${journey} FAILED after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    console.error(error instanceof AssertionError ? `${error.message}\n${error.stack.split('\n').slice(1).join('\n')}` : error);
    if (pageProblems.length) console.error(`problems seen in the pages:\n  ${pageProblems.join('\n  ')}`);
    await failureScreenshots(browser);
    return 1;
  } finally {
    await browser.close().catch(() => {});
  }
}

/** A screenshot of every page still open, to see what the browser showed when it failed. */
async function failureScreenshots(browser) {
  let n = 0;
  for (const context of browser.contexts()) {
    for (const page of context.pages()) {
      n += 1;
      try {
        const file = await screenshot(page, `FAILED-${n}`);
        console.error(`  page ${n} (${page.url()}): ${file}`);
      } catch {
        // A page that cannot be captured adds nothing to the report.
      }
    }
  }
}

main().then(
  (code) => { process.exitCode = code; },
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
