// A neighbor whose phone is set to Spanish joins from the join page (issue 22): the page follows
// the browser's language, the consent is the Spanish one and is stored as shown, the code and
// every text after it arrive in Spanish on the simulated phone, and the switch at the top turns
// the page to English without losing what was typed.

import {
  PHONE, api, createNeighborhood, expect, expectAccessible, health, inboxItems, latestCode, newPage, poll,
  sandboxTab, screenshot,
} from '../lib.mjs';

const OWNER = '+15550700000';
const LUZ = '+15550700001';

export default async function joinSpanish({ browser }) {
  await health();
  const { id, slug } = await createNeighborhood({
    name: 'Calle Roble', area_code: '415', owner_phone: OWNER, owner_name: 'Rosa',
  });
  const card = (await api('GET', `/api/v1/join/${slug}`, undefined, { token: null })).body;
  const consentEs = card.consent_texts.es.sms;
  expect(consentEs.startsWith('Acepto recibir mensajes de texto del grupo de vecinos de Calle Roble'), 'the Spanish consent').toBe(true);

  const page = await newPage(browser, { viewport: PHONE, locale: 'es-MX' });
  await page.goto(`/join/${slug}`);
  await expect(page.getByRole('heading', { level: 1 }), 'the page in Spanish').toHaveText('Unirte a Calle Roble');
  await expect(page.getByRole('combobox', { name: 'Idioma' }), 'the language switch').toHaveValue('es');
  await page.getByRole('textbox', { name: 'Tu nombre' }).fill('Luz Marín');
  await page.getByRole('textbox', { name: 'Número de celular' }).fill('(555) 070-0001');
  const consent = page.getByRole('checkbox', { name: consentEs });
  await expect(consent, 'the consent, in Spanish').toBeVisible();
  await expectAccessible(page, 'the join page in Spanish at 360 px');
  await screenshot(page, 'join-es-360');

  // The switch turns the page to English and keeps what was typed; and back.
  await page.getByRole('combobox', { name: 'Idioma' }).selectOption('en');
  await expect(page.getByRole('heading', { level: 1 }), 'the page in English').toHaveText('Join Calle Roble');
  await expect(page.getByRole('textbox', { name: 'Your name' }), 'the name kept').toHaveValue('Luz Marín');
  await expect(page.getByRole('checkbox', { name: card.consent_texts.en.sms }), 'the English consent').toBeVisible();
  await page.getByRole('combobox', { name: 'Language' }).selectOption('es');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Unirte a Calle Roble');
  await expect(page.getByRole('textbox', { name: 'Número de celular' }), 'the phone kept').toHaveValue('(555) 070-0001');

  // Without the consent, the page says so in Spanish, and so does the API in the field's own words.
  await page.getByRole('button', { name: 'Envíame una clave' }).click();
  await expect(page.getByRole('alert'), 'the summary in Spanish').toHaveText('Corrige el campo marcado abajo.');
  await expect(page.getByText('Acepta recibir los textos del grupo para unirte.'), "the API's words in Spanish").toBeVisible();
  await consent.check();
  await page.getByRole('button', { name: 'Envíame una clave' }).click();
  await expect(page.getByRole('heading', { name: 'Confirma tu teléfono' })).toBeVisible();
  await expect(page.getByText('Escribe la clave que enviamos por texto al +1 555 070 0001.'), 'the code step').toBeVisible();
  const code = await latestCode(page, LUZ, { matching: /(\d{6}) es tu clave para unirte a Calle Roble\. Vence en 10 minutos\./ });
  await page.getByRole('textbox', { name: 'Clave de 6 dígitos' }).fill(code);
  await page.getByRole('button', { name: 'Confirmar', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Gracias, Luz Marín: tu teléfono está confirmado' })).toBeVisible();
  await expect(page.getByRole('listitem').filter({ hasText: 'SALIR' }), 'how to leave, in Spanish').toHaveText('Escribe SALIR a ese número para salir del grupo cuando quieras.');
  await expectAccessible(page, 'the Spanish done page');
  await screenshot(page, 'join-es-done-360');

  // The consent kept as evidence is the one shown; approved, the welcome is in Spanish.
  const requests = (await api('GET', `/api/v1/neighborhoods/${id}/join-requests?state=pending`)).body.items;
  expect(requests.length, 'one request').toBe(1);
  expect(requests[0].consent_text, 'the consent stored as shown').toBe(consentEs);
  expect(requests[0].language, 'the request in Spanish').toBe('es');
  const approved = await api('POST', `/api/v1/neighborhoods/${id}/join-requests/${requests[0].id}/approve`, {});
  expect(approved.status, 'approved').toBe(202);
  const phones = await sandboxTab(page.context());
  await poll(async () => (await inboxItems(phones, LUZ).filter({ hasText: '¡Te damos la bienvenida a Calle Roble!' }).count()) === 1,
    { message: () => 'the Spanish welcome on the simulated phone' });
}
