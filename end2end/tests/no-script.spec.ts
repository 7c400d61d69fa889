import { expect, test } from '@playwright/test';
import { PASSWORD, signUp, uniqueEmail } from './helpers';

// The sign-in form and the language switch are plain HTML forms, so they work with script off.
// The settings page hides the sender buttons, which need script, and shows why.
test.use({ javaScriptEnabled: false });

test('sign-in error shows without script', async ({ page }) => {
  await page.goto('/sign-in?next=/settings');

  await page.getByLabel('Adresse email').fill(uniqueEmail('noscript'));
  await page.getByLabel('Mot de passe').fill('not the password');
  await page.getByRole('button', { name: 'Se connecter' }).click();

  await expect(page.getByRole('alert')).toHaveText('Adresse email ou mot de passe incorrect.');
  await expect(page).toHaveURL(/\/sign-in\?next=(%2F|\/)settings&__path=/);
});

test('language switch keeps a clean address', async ({ page }) => {
  await page.goto('/sign-in');

  await page.getByRole('button', { name: 'Langue : English' }).click();

  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  expect(page.url()).toMatch(/\/sign-in$/);
});

test('settings hide buttons that need script', async ({ browser, page }) => {
  const email = uniqueEmail('noscript-settings');
  const scripted = await browser.newContext({ javaScriptEnabled: true });
  await signUp(await scripted.newPage(), 'Sans Script', email);
  await scripted.close();

  await page.goto('/sign-in?next=/settings');
  await page.getByLabel('Adresse email').fill(email);
  await page.getByLabel('Mot de passe').fill(PASSWORD);
  await page.getByRole('button', { name: 'Se connecter' }).click();

  await expect(page.getByRole('heading', { level: 1, name: 'Paramètres de votre compte' })).toBeVisible();
  // Playwright turns script off through the DevTools protocol, and Chromium then does not render
  // the content of <noscript>, so the notice is read from the markup.
  expect(await page.content()).toContain('Ajouter, modifier ou tester un expéditeur demande JavaScript.');
  await expect(page.getByRole('heading', { name: "Emails de l'expéditeur" })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Ajouter un expéditeur' })).toBeHidden();
});
