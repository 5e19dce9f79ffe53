// An integrator opens the API reference: under its Content-Security-Policy (finding 19) the page
// still loads the spec and lists the operations, with nothing refused in the console.

import { DESKTOP, expect, newPage, screenshot } from '../lib.mjs';

export default async function apiDocs({ browser }) {
  const page = await newPage(browser, { viewport: DESKTOP });
  await page.goto('/docs');
  const operation = page.locator('.opblock-summary-path', { hasText: '/api/v1/neighborhoods/{id}/members' }).first();
  await expect(operation, 'the operations, read from /openapi.json').toBeVisible();
  await screenshot(page, 'docs-1280');
}
