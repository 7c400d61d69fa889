import { type BrowserContext, expect, type Page, test } from '@playwright/test';
import { signUp, uniqueEmail, waitForHydration } from './helpers';
import { SMTP_PASSWORD, SMTP_USERNAME } from '../support/smtp';

const smtpPort = () => process.env.RELAIS_E2E_SMTP_PORT!;

async function openSettings(page: Page): Promise<void> {
  await page.goto('/settings');
  await waitForHydration(page);
}

/** Fills the sender dialog with settings that the local SMTP server accepts. */
async function fillWorkingSettings(page: Page, senderEmail: string, password = SMTP_PASSWORD): Promise<void> {
  const dialog = page.getByRole('dialog', { name: "Configuration de l'expéditeur (SMTP)" });
  await dialog.getByLabel("Nom de l'expéditeur").fill('Équipe Ventes');
  await dialog.getByLabel("Adresse de l'expéditeur").fill(senderEmail);
  await dialog.getByLabel('Serveur SMTP').fill('localhost');
  await dialog.getByLabel('Sécurité').selectOption('starttls');
  await dialog.getByLabel('Port').fill(smtpPort());
  await dialog.getByLabel("Nom d'utilisateur").fill(SMTP_USERNAME);
  await dialog.getByLabel('Mot de passe').fill(password);
}

async function addWorkingSender(page: Page, accountEmail: string, senderEmail: string): Promise<void> {
  await page.getByRole('button', { name: 'Ajouter un expéditeur' }).click();
  await fillWorkingSettings(page, senderEmail);
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: 'Envoyer un email de test' }).click();
  await expect(dialog.getByText(`Email de test envoyé à ${accountEmail}`)).toBeVisible();
  await dialog.getByRole('button', { name: 'Enregistrer' }).click();
  await expect(dialog).toBeHidden();
}

test('add a sender: test, confirmation, save, listed', async ({ page }) => {
  const account = uniqueEmail('owner');
  const sender = uniqueEmail('sales');
  await signUp(page, 'Ana Lopes', account);
  await openSettings(page);

  await page.getByRole('button', { name: 'Ajouter un expéditeur' }).click();
  const dialog = page.getByRole('dialog', { name: "Configuration de l'expéditeur (SMTP)" });
  await expect(dialog).toBeVisible();
  await fillWorkingSettings(page, sender);
  const save = dialog.getByRole('button', { name: 'Enregistrer' });
  await expect(save).toBeDisabled();
  await dialog.getByRole('button', { name: 'Envoyer un email de test' }).click();

  await expect(dialog.getByText(`Email de test envoyé à ${account}`)).toBeVisible();
  await expect(save).toBeEnabled();
  await save.click();

  await expect(dialog).toBeHidden();
  const row = page.locator('#senders').getByRole('listitem').filter({ hasText: sender });
  await expect(row).toContainText('Équipe Ventes');
  await expect(row).toContainText('Vérifié');
  await expect(row.getByRole('button', { name: `Modifier l'expéditeur ${sender}` })).toBeVisible();
  await expect(row.getByRole('button', { name: `Supprimer l'expéditeur ${sender}` })).toBeVisible();
  await page.reload();
  await expect(page.locator('#senders').getByRole('listitem').filter({ hasText: sender })).toBeVisible();
});

test('saving a sender adds a creation entry to the activity log', async ({ page }) => {
  const account = uniqueEmail('owner');
  const sender = uniqueEmail('sales');
  await signUp(page, 'Ana Lopes', account);
  await openSettings(page);
  const log = page.getByRole('region', { name: "Journal d'activité" });
  await expect(log).toContainText('Aucune activité enregistrée');

  await addWorkingSender(page, account, sender);

  const entries = log.getByRole('listitem');
  await expect(entries.first()).toContainText(`Expéditeur ajouté : ${sender}`);
  await expect(entries.nth(1)).toContainText(`Test d'envoi réussi : ${sender}`);
  await expect(entries.first()).toContainText('UTC');
  await page.reload();
  await expect(log.getByRole('listitem').first()).toContainText(`Expéditeur ajouté : ${sender}`);
});

test('wrong password: error with the failed step, save stays disabled', async ({ page }) => {
  await signUp(page, 'Bea Costa', uniqueEmail('bea'));
  await openSettings(page);

  await page.getByRole('button', { name: 'Ajouter un expéditeur' }).click();
  await fillWorkingSettings(page, uniqueEmail('support'), 'not-the-password');
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: 'Envoyer un email de test' }).click();

  await expect(dialog.getByRole('alert')).toContainText('Échec à l\'étape : authentification.');
  await expect(dialog.getByRole('alert')).toContainText('refusé le nom d\'utilisateur ou le mot de passe');
  await dialog.getByText('Détails techniques').click();
  await expect(dialog.getByText('535 5.7.8 Authentication credentials invalid')).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'Enregistrer' })).toBeDisabled();
});

test('save follows the tested values', async ({ page }) => {
  const account = uniqueEmail('carla');
  await signUp(page, 'Carla Dias', account);
  await openSettings(page);

  await page.getByRole('button', { name: 'Ajouter un expéditeur' }).click();
  await fillWorkingSettings(page, uniqueEmail('billing'));
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: 'Envoyer un email de test' }).click();
  await expect(dialog.getByText(`Email de test envoyé à ${account}`)).toBeVisible();
  await dialog.getByLabel("Nom de l'expéditeur").fill('Autre nom');

  const save = dialog.getByRole('button', { name: 'Enregistrer' });
  await expect(save).toBeDisabled();
  await expect(dialog.getByText(`Email de test envoyé à ${account}`)).toBeHidden();

  // Typing the tested value back brings the passed test back.
  await dialog.getByLabel("Nom de l'expéditeur").fill('Équipe Ventes');
  await expect(dialog.getByText(`Email de test envoyé à ${account}`)).toBeVisible();
  await expect(save).toBeEnabled();
});

test('edit the name without retyping the password', async ({ page }) => {
  const account = uniqueEmail('dora');
  const sender = uniqueEmail('news');
  await signUp(page, 'Dora Melo', account);
  await openSettings(page);
  await addWorkingSender(page, account, sender);

  await page.getByRole('button', { name: `Modifier l'expéditeur ${sender}` }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByLabel("Adresse de l'expéditeur")).toHaveValue(sender);
  await expect(dialog.getByLabel('Mot de passe')).toHaveValue('');
  await expect(dialog.getByText('Un mot de passe est enregistré')).toBeVisible();
  await dialog.getByLabel("Nom de l'expéditeur").fill('Lettre mensuelle');
  await dialog.getByRole('button', { name: 'Envoyer un email de test' }).click();
  await expect(dialog.getByText(`Email de test envoyé à ${account}`)).toBeVisible();
  await dialog.getByRole('button', { name: 'Enregistrer' }).click();

  await expect(dialog).toBeHidden();
  await expect(page.locator('#senders').getByRole('listitem').filter({ hasText: sender })).toContainText('Lettre mensuelle');
});

test('changing the host asks for the password again', async ({ page }) => {
  const account = uniqueEmail('eli');
  const sender = uniqueEmail('alerts');
  await signUp(page, 'Eli Sousa', account);
  await openSettings(page);
  await addWorkingSender(page, account, sender);

  await page.getByRole('button', { name: `Modifier l'expéditeur ${sender}` }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Serveur SMTP').fill('127.0.0.1');
  await dialog.getByRole('button', { name: 'Envoyer un email de test' }).click();

  await expect(dialog.getByText('saisissez à nouveau le mot de passe')).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'Enregistrer' })).toBeDisabled();
});

test('delete with the trash icon and "Supprimer maintenant"', async ({ page }) => {
  const account = uniqueEmail('fred');
  const sender = uniqueEmail('old');
  await signUp(page, 'Fred Lima', account);
  await openSettings(page);
  await addWorkingSender(page, account, sender);

  await page.getByRole('button', { name: `Supprimer l'expéditeur ${sender}` }).click();
  const confirm = page.getByRole('dialog', { name: 'Supprimer cet expéditeur ?' });
  await expect(confirm).toContainText(sender);
  await confirm.getByRole('button', { name: 'Supprimer maintenant' }).click();

  await expect(confirm).toBeHidden();
  await expect(page.locator('#senders').getByRole('listitem').filter({ hasText: sender })).toHaveCount(0);
  await page.reload();
  await expect(page.locator('#senders').getByRole('listitem').filter({ hasText: sender })).toHaveCount(0);
});

/** Signs up, adds one working sender and opens the settings in a second tab of the same session. */
async function senderInTwoTabs(context: BrowserContext, page: Page, name: string, prefix: string) {
  const account = uniqueEmail(prefix);
  const sender = uniqueEmail(`${prefix}-sender`);
  await signUp(page, name, account);
  await openSettings(page);
  await addWorkingSender(page, account, sender);
  const otherTab = await context.newPage();
  await openSettings(otherTab);
  return { account, sender, otherTab };
}

test('delete of a sender already gone', async ({ context, page }) => {
  const { sender, otherTab } = await senderInTwoTabs(context, page, 'Flora Reis', 'flora');
  await otherTab.getByRole('button', { name: `Supprimer l'expéditeur ${sender}` }).click();
  await otherTab.getByRole('button', { name: 'Supprimer maintenant' }).click();
  await expect(otherTab.getByRole('dialog')).toBeHidden();

  await page.getByRole('button', { name: `Supprimer l'expéditeur ${sender}` }).click();
  const confirm = page.getByRole('dialog', { name: 'Supprimer cet expéditeur ?' });
  await confirm.getByRole('button', { name: 'Supprimer maintenant' }).click();

  await expect(confirm).toBeHidden();
  await expect(page.locator('#senders').getByRole('listitem').filter({ hasText: sender })).toHaveCount(0);
});

test('save after an edit in another tab', async ({ context, page }) => {
  const { account, sender, otherTab } = await senderInTwoTabs(context, page, 'Gaia Costa', 'gaia');

  await page.getByRole('button', { name: `Modifier l'expéditeur ${sender}` }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel("Nom de l'expéditeur").fill('Nom de cet onglet');
  await dialog.getByRole('button', { name: 'Envoyer un email de test' }).click();
  await expect(dialog.getByText(`Email de test envoyé à ${account}`)).toBeVisible();

  await otherTab.getByRole('button', { name: `Modifier l'expéditeur ${sender}` }).click();
  const otherDialog = otherTab.getByRole('dialog');
  await otherDialog.getByLabel("Nom de l'expéditeur").fill("Nom de l'autre onglet");
  await otherDialog.getByRole('button', { name: 'Envoyer un email de test' }).click();
  await expect(otherDialog.getByText(`Email de test envoyé à ${account}`)).toBeVisible();
  await otherDialog.getByRole('button', { name: 'Enregistrer' }).click();
  await expect(otherDialog).toBeHidden();

  await dialog.getByRole('button', { name: 'Enregistrer' }).click();

  await expect(dialog.getByText('Cet expéditeur a été modifié entre-temps')).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'Enregistrer' })).toBeDisabled();
  await expect(dialog.getByText(`Email de test envoyé à ${account}`)).toBeHidden();
  const row = page.locator('#senders').getByRole('listitem').filter({ hasText: sender });
  await expect(row).toContainText("Nom de l'autre onglet");
});

test('too long name gives the limit', async ({ page }) => {
  await signUp(page, 'Ines Rocha', uniqueEmail('ines'));
  await openSettings(page);

  await page.getByRole('button', { name: 'Ajouter un expéditeur' }).click();
  await fillWorkingSettings(page, uniqueEmail('long'));
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel("Nom de l'expéditeur").fill('n'.repeat(65));
  await dialog.getByRole('button', { name: 'Envoyer un email de test' }).click();

  await expect(dialog.getByText('Le nom est trop long (au plus 64 caractères).')).toBeVisible();
  await expect(dialog.getByLabel("Nom de l'expéditeur")).toHaveValue('n'.repeat(65));
});

test('the dialog closes with Escape', async ({ page }) => {
  await signUp(page, 'Gil Nunes', uniqueEmail('gil'));
  await openSettings(page);

  await page.getByRole('button', { name: 'Ajouter un expéditeur' }).click();
  await expect(page.getByRole('dialog')).toBeVisible();
  await page.keyboard.press('Escape');

  await expect(page.getByRole('dialog')).toBeHidden();
});

test('an unusual port and security pair shows a warning', async ({ page }) => {
  await signUp(page, 'Hugo Pires', uniqueEmail('hugo'));
  await openSettings(page);

  await page.getByRole('button', { name: 'Ajouter un expéditeur' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Sécurité').selectOption('tls');
  await expect(dialog.getByLabel('Port')).toHaveValue('465');
  await dialog.getByLabel('Port').fill('587');

  await expect(dialog.getByRole('note')).toContainText('Le port 587 fonctionne rarement');
  await dialog.getByLabel('Sécurité').selectOption('starttls');
  await expect(dialog.getByLabel('Port')).toHaveValue('587');
});
