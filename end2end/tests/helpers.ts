import { expect, type Page } from '@playwright/test';

export const PASSWORD = 'correct horse battery';

/** Returns a fresh address per call, so parallel tests never share an account. */
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

/** Waits until the page is interactive in the browser, not only server-rendered. */
export async function waitForHydration(page: Page): Promise<void> {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

/** Creates an account through the sign-up form and waits for the workspace. */
export async function signUp(page: Page, displayName: string, email: string): Promise<void> {
  await page.goto('/sign-up');
  await waitForHydration(page);
  await page.getByLabel('Nom affiché').fill(displayName);
  await page.getByLabel('Adresse email').fill(email);
  await page.getByLabel('Mot de passe').fill(PASSWORD);
  await page.getByRole('button', { name: 'Créer mon compte' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Mon Espace de Travail' })).toBeVisible();
}
