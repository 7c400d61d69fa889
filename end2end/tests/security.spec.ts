import { expect, type Page, test } from '@playwright/test';
import { signUp, uniqueEmail, waitForHydration } from './helpers';
import { SMTP_PASSWORD, SMTP_USERNAME } from '../support/smtp';

const smtpPort = () => process.env.RELAIS_E2E_SMTP_PORT!;
const DIALOG = "Configuration de l'expéditeur (SMTP)";

/** Records every Content-Security-Policy violation of the page in `window.cspViolations`. */
async function recordPolicyViolations(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const violations: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = violations;
    document.addEventListener('securitypolicyviolation', (event) => {
      violations.push(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
}

async function policyViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
}

async function fillSender(page: Page, senderEmail: string): Promise<void> {
  const dialog = page.getByRole('dialog', { name: DIALOG });
  await dialog.getByLabel("Nom de l'expéditeur").fill('Équipe Ventes');
  await dialog.getByLabel("Adresse de l'expéditeur").fill(senderEmail);
  await dialog.getByLabel('Serveur SMTP').fill('localhost');
  await dialog.getByLabel('Sécurité').selectOption('starttls');
  await dialog.getByLabel('Port').fill(smtpPort());
  await dialog.getByLabel("Nom d'utilisateur").fill(SMTP_USERNAME);
  await dialog.getByLabel('Mot de passe').fill(SMTP_PASSWORD);
}

test('pages hydrate under the content security policy', async ({ page }) => {
  await recordPolicyViolations(page);
  await signUp(page, 'Ana Lopes', uniqueEmail('csp'));

  const response = await page.goto('/settings');
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Ajouter un expéditeur' }).click();
  await expect(page.getByRole('dialog', { name: DIALOG })).toBeVisible();

  const policy = response!.headers()['content-security-policy'];
  expect(policy).toContain("script-src 'self' 'nonce-");
  expect(policy).toContain("frame-ancestors 'none'");
  expect(await policyViolations(page)).toEqual([]);
});

test('double clicks send one test and save one sender', async ({ page }) => {
  const account = uniqueEmail('double');
  const sender = uniqueEmail('sales');
  await signUp(page, 'Ana Lopes', account);
  await page.goto('/settings');
  await waitForHydration(page);
  const testSends: string[] = [];
  const saves: string[] = [];
  page.on('request', (request) => {
    if (request.url().endsWith('/api/test_sender')) testSends.push(request.url());
    if (request.url().endsWith('/api/save_sender')) saves.push(request.url());
  });

  await page.getByRole('button', { name: 'Ajouter un expéditeur' }).click();
  await fillSender(page, sender);
  const dialog = page.getByRole('dialog', { name: DIALOG });
  await dialog.getByRole('button', { name: 'Envoyer un email de test' }).dblclick();
  await expect(dialog.getByText(`Email de test envoyé à ${account}`)).toBeVisible();
  await dialog.getByRole('button', { name: 'Enregistrer' }).dblclick();
  await expect(dialog).toBeHidden();

  expect(testSends).toHaveLength(1);
  expect(saves).toHaveLength(1);
  await page.reload();
  await expect(page.locator('#senders').getByRole('listitem').filter({ hasText: sender })).toHaveCount(1);
  const log = page.getByRole('region', { name: "Journal d'activité" });
  await expect(log.getByRole('listitem').filter({ hasText: `Test d'envoi réussi : ${sender}` })).toHaveCount(1);
  await expect(log.getByRole('listitem').filter({ hasText: `Expéditeur ajouté : ${sender}` })).toHaveCount(1);
});

test('a failed save keeps what the user typed', async ({ page }) => {
  const account = uniqueEmail('outage');
  const sender = uniqueEmail('sales');
  await signUp(page, 'Ana Lopes', account);
  await page.goto('/settings');
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Ajouter un expéditeur' }).click();
  await fillSender(page, sender);
  const dialog = page.getByRole('dialog', { name: DIALOG });
  await dialog.getByRole('button', { name: 'Envoyer un email de test' }).click();
  await expect(dialog.getByText(`Email de test envoyé à ${account}`)).toBeVisible();

  // The connection drops before the save reaches the server, as in a network or proxy failure.
  await page.route('**/api/save_sender', (route) => route.abort('connectionreset'));
  await dialog.getByRole('button', { name: 'Enregistrer' }).click();

  await expect(dialog.getByText('La requête n’a pas abouti')).toBeVisible();
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel("Adresse de l'expéditeur")).toHaveValue(sender);
  await expect(dialog.getByLabel('Mot de passe')).toHaveValue(SMTP_PASSWORD);

  await page.unroute('**/api/save_sender');
  await dialog.getByRole('button', { name: 'Enregistrer' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.locator('#senders').getByRole('listitem').filter({ hasText: sender })).toHaveCount(1);
});
