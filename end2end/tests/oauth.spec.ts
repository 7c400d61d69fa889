import { expect, test } from '@playwright/test';
import { signUp, uniqueEmail, waitForHydration } from './helpers';
import { OAUTH_MAILBOX, controlProvider } from '../support/oauth';

test('Google sender reconnects after revocation', async ({ page }) => {
  const account = uniqueEmail('oauth');
  await signUp(page, 'Olga Rocha', account);
  await page.goto('/settings');
  await waitForHydration(page);

  // Microsoft is not configured in this run, so its button is disabled and the dialog points to
  // the SMTP fields.
  await page.getByRole('button', { name: 'Ajouter un expéditeur' }).click();
  const dialog = page.getByRole('dialog', { name: "Configuration de l'expéditeur (SMTP)" });
  await expect(dialog.getByRole('button', { name: 'Se connecter avec Microsoft' })).toBeDisabled();
  await expect(dialog.getByText("Microsoft n'est pas proposé sur ce serveur.")).toBeVisible();
  await expect(dialog.getByText('RELAIS_MICROSOFT_CLIENT_ID')).toHaveCount(0);

  // The local provider consents at once and sends the browser back to the settings.
  await dialog.getByRole('button', { name: 'Se connecter avec Google' }).click();
  await expect(page).toHaveURL(/\/settings/);
  await expect(dialog).toBeVisible();
  await expect(dialog.getByText(`Compte Google connecté : ${OAUTH_MAILBOX}`)).toBeVisible();
  await expect(dialog.getByLabel('Serveur SMTP')).toHaveCount(0);
  await dialog.getByLabel("Nom de l'expéditeur").fill('Olga Rocha');
  const save = dialog.getByRole('button', { name: 'Enregistrer' });
  await expect(save).toBeDisabled();
  await dialog.getByRole('button', { name: 'Envoyer un email de test' }).click();
  await expect(dialog.getByText(`Email de test envoyé à ${account}`)).toBeVisible();
  await save.click();
  await expect(dialog).toBeHidden();

  const row = page.locator('#senders').getByRole('listitem').filter({ hasText: OAUTH_MAILBOX });
  await expect(row).toContainText('Google');
  await expect(row).toContainText('Vérifié');
  const refresh = row.getByRole('button', { name: `Actualiser la connexion de ${OAUTH_MAILBOX}` });
  await expect(refresh).toBeVisible();

  // The user withdraws access at the provider, so the next test send fails at the
  // authorization stage.
  await controlProvider({ revokeAll: true });
  await row.getByRole('button', { name: `Modifier l'expéditeur ${OAUTH_MAILBOX}` }).click();
  await dialog.getByRole('button', { name: 'Envoyer un email de test' }).click();
  await expect(dialog.getByRole('alert')).toContainText("Échec à l'étape : autorisation du fournisseur.");
  await expect(dialog.getByRole('alert')).toContainText('Actualiser');
  await dialog.getByRole('button', { name: 'Annuler' }).click();
  await page.reload();
  await waitForHydration(page);
  await expect(row).toContainText('Réauthentification requise');
  await expect(row).toContainText("Google n'accepte plus l'accès de Relais à cette boîte");
  await expect(refresh).toHaveClass(/attention/);

  // The refresh button ("Actualiser") signs in again and keeps the same sender.
  await refresh.click();
  await expect(page.getByRole('status').filter({ hasText: 'Le compte est reconnecté' })).toBeVisible();
  await expect(row).toContainText('Vérifié');
  await expect(page.locator('#senders').getByRole('listitem').filter({ hasText: OAUTH_MAILBOX })).toHaveCount(1);
  await expect(page).toHaveURL(/\/settings#senders$/);
});
