import { expect, test } from '@playwright/test';
import { PASSWORD, signUp, uniqueEmail, waitForHydration } from './helpers';

test('avatar menu opens the settings in a new tab', async ({ page, context }) => {
  await signUp(page, 'Ana Lopes', uniqueEmail('ana'));
  await waitForHydration(page);

  await page.getByLabel('Menu du compte de Ana Lopes').click();
  const settingsLink = page.getByRole('link', { name: /Paramètres/ });
  await expect(settingsLink).toBeVisible();
  await expect(settingsLink).toHaveAttribute('target', '_blank');
  await expect(settingsLink).toHaveAttribute('rel', 'noopener');
  const [settings] = await Promise.all([context.waitForEvent('page'), settingsLink.click()]);

  await settings.waitForLoadState();
  expect(new URL(settings.url()).pathname).toBe('/settings');
  await expect(settings.getByRole('heading', { level: 1, name: 'Paramètres de votre compte' })).toBeVisible();
  await expect(settings.getByRole('heading', { level: 2, name: "Emails de l'expéditeur" })).toBeVisible();
  await expect(settings.getByText('noreply@relais.example')).toBeVisible();
});

test('avatar menu works with the keyboard', async ({ page }) => {
  await signUp(page, 'Bea Costa', uniqueEmail('bea'));
  await waitForHydration(page);
  const avatar = page.getByLabel('Menu du compte de Bea Costa');

  await avatar.focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('link', { name: /Paramètres/ })).toBeVisible();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: /Paramètres/ })).toBeFocused();
  await page.keyboard.press('Escape');

  await expect(page.getByRole('link', { name: /Paramètres/ })).toBeHidden();
  await expect(avatar).toBeFocused();
});

test('avatar menu closes on a click elsewhere', async ({ page }) => {
  await signUp(page, 'Dan Roy', uniqueEmail('dan'));
  await waitForHydration(page);
  const settingsLink = page.getByRole('link', { name: /Paramètres/ });

  await page.getByLabel('Menu du compte de Dan Roy').click();
  await expect(settingsLink).toBeVisible();
  await page.getByRole('heading', { level: 1, name: 'Mon Espace de Travail' }).click();

  await expect(settingsLink).toBeHidden();
});

test('switching to English changes the labels', async ({ page }) => {
  await signUp(page, 'Chloé Martin', uniqueEmail('chloe'));
  await waitForHydration(page);

  await page.getByRole('button', { name: 'Langue : English' }).click();

  await expect(page.getByRole('heading', { level: 1, name: 'My Workspace' })).toBeVisible();
  await page.goto('/settings');
  await expect(page.getByRole('heading', { level: 1, name: 'Your account settings' })).toBeVisible();
  await expect(page.getByRole('heading', { level: 2, name: 'Sender emails' })).toBeVisible();
});

test('signed-out visit to settings returns there after sign-in', async ({ page, browser }) => {
  const email = uniqueEmail('dan');
  await signUp(page, 'Dan Silva', email);
  const signedOut = await browser.newPage();

  await signedOut.goto('/settings');
  await expect(signedOut).toHaveURL(/\/sign-in\?next=\/settings$/);
  await waitForHydration(signedOut);
  await signedOut.getByLabel('Adresse email').fill(email);
  await signedOut.getByLabel('Mot de passe').fill(PASSWORD);
  await signedOut.getByRole('button', { name: 'Se connecter' }).click();

  await expect(signedOut.getByRole('heading', { level: 1, name: 'Paramètres de votre compte' })).toBeVisible();
  expect(new URL(signedOut.url()).pathname).toBe('/settings');
  await signedOut.close();
});

test('wrong password shows an error in place', async ({ page }) => {
  await page.goto('/sign-in');
  await waitForHydration(page);

  await page.getByLabel('Adresse email').fill(uniqueEmail('nobody'));
  await page.getByLabel('Mot de passe').fill('not the password');
  await page.getByRole('button', { name: 'Se connecter' }).click();

  await expect(page.getByRole('alert')).toHaveText('Adresse email ou mot de passe incorrect.');
});

test('links show only the next page', async ({ page }) => {
  await signUp(page, 'Eva Rocha', uniqueEmail('eva'));
  await page.goto('/settings');
  await waitForHydration(page);

  await page.getByRole('link', { name: 'Retour à Mon Espace de Travail' }).click();

  await expect(page.getByRole('heading', { level: 1, name: 'Mon Espace de Travail' })).toBeVisible();
  await expect(page.getByText('Bonjour Eva Rocha')).toBeVisible();
  await expect(page.getByRole('heading', { level: 2, name: "Emails de l'expéditeur" })).toHaveCount(0);
  await expect(page.getByRole('heading', { level: 2, name: "Journal d'activité" })).toHaveCount(0);

  await page.goto('/no-such-page');
  await page.getByRole('link', { name: 'Retour à Mon Espace de Travail' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Mon Espace de Travail' })).toBeVisible();
  await expect(page.getByText('Bonjour Eva Rocha')).toBeVisible();
});

test('sign-out from the avatar menu ends the session', async ({ page }) => {
  await signUp(page, 'Fabio Reis', uniqueEmail('fabio'));
  await waitForHydration(page);

  await page.getByLabel('Menu du compte de Fabio Reis').click();
  await page.getByRole('button', { name: 'Se déconnecter' }).click();

  await expect(page.getByRole('heading', { level: 1, name: 'Connexion' })).toBeVisible();
  await page.goto('/workspace');
  await expect(page).toHaveURL(/\/sign-in/);
});

test('sign-in and sign-up link both ways', async ({ page }) => {
  await page.goto('/sign-in');
  await waitForHydration(page);

  await page.getByRole('link', { name: 'Créer un compte' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Créer un compte' })).toBeVisible();
  await waitForHydration(page);
  await expect(page.getByLabel('Nom affiché')).toBeVisible();

  await page.getByRole('link', { name: 'Se connecter' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Connexion' })).toBeVisible();
  await expect(page.getByLabel('Nom affiché')).toHaveCount(0);
});

test('senders work after going back', async ({ page }) => {
  await signUp(page, 'Gil Moura', uniqueEmail('gil'));
  await page.goto('/settings');
  await waitForHydration(page);
  await page.getByRole('link', { name: 'Retour à Mon Espace de Travail' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Mon Espace de Travail' })).toBeVisible();

  await page.goBack();

  await expect(page.getByRole('heading', { level: 1, name: 'Paramètres de votre compte' })).toBeVisible();
  await expect(page.getByText('noreply@relais.example')).toBeVisible();
  await page.getByRole('button', { name: 'Ajouter un expéditeur' }).click();
  await expect(page.getByRole('dialog', { name: "Configuration de l'expéditeur (SMTP)" })).toBeVisible();
});
