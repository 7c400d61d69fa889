import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { port } from './playwright.config';
import { OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, OAUTH_MAILBOX, startOAuthProvider } from './support/oauth';
import { SMTP_PASSWORD, SMTP_USERNAME, makeCertificates, startSmtpServer } from './support/smtp';

const root = path.resolve(__dirname, '..');

/** Resolves when nothing listens on the port, so the tests cannot hit another server. */
function assertPortFree(portNumber: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.connect({ host: '127.0.0.1', port: portNumber });
    probe.once('connect', () => {
      probe.destroy();
      reject(new Error(`port ${portNumber} is already in use; stop that process or set RELAIS_E2E_PORT`));
    });
    probe.once('error', () => resolve());
  });
}

async function waitForHealth(url: string, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Relais did not respond on ${url} within 30 s of starting`);
}

/** Starts the release build of Relais with a fresh data directory; returns the teardown. */
export default async function globalSetup(): Promise<() => Promise<void>> {
  await assertPortFree(port);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'relais-e2e-'));
  const certificates = makeCertificates(dataDir);
  // "Google": access tokens live 61 s, so that every send refreshes first (Relais refreshes a
  // token that expires within a minute) and a revoked grant shows at once.
  const google = await startOAuthProvider({
    provider: 'google',
    clientId: OAUTH_CLIENT_ID,
    clientSecret: OAUTH_CLIENT_SECRET,
    email: OAUTH_MAILBOX,
    accessTokenTtlSecs: 61,
  });
  // One SMTP server takes passwords and the provider's XOAUTH2 tokens.
  const smtp = await startSmtpServer({
    tls: 'starttls',
    certFile: certificates.certFile,
    keyFile: certificates.keyFile,
    auth: { username: SMTP_USERNAME, password: SMTP_PASSWORD },
    xoauth2: { verifyUrl: `${google.issuer}/_harness/tokens/verify` },
  });
  // Tests read the port to type it in the sender dialog, and the issuer to drive the provider.
  process.env.RELAIS_E2E_SMTP_PORT = String(smtp.port);
  process.env.RELAIS_E2E_OAUTH_ISSUER = google.issuer;

  const server = spawn(path.join(root, 'target/release/relais'), [], {
    cwd: root,
    env: {
      ...process.env,
      RELAIS_LISTEN_ADDR: `127.0.0.1:${port}`,
      RELAIS_DATA_DIR: dataDir,
      RELAIS_SITE_ROOT: path.join(root, 'target/site'),
      RELAIS_DEFAULT_SENDER: 'noreply@relais.example',
      RELAIS_SMTP_ALLOWED_TARGETS: `localhost:${smtp.port}`,
      RELAIS_SMTP_EXTRA_CA_FILE: certificates.caFile,
      RELAIS_TEST_SENDS_PER_10_MIN: '1000',
      RELAIS_GOOGLE_CLIENT_ID: OAUTH_CLIENT_ID,
      RELAIS_GOOGLE_CLIENT_SECRET: OAUTH_CLIENT_SECRET,
      RELAIS_GOOGLE_AUTHORIZE_URL: `${google.issuer}/authorize`,
      RELAIS_GOOGLE_TOKEN_URL: `${google.issuer}/token`,
      RELAIS_GOOGLE_REVOKE_URL: `${google.issuer}/revoke`,
      RELAIS_GOOGLE_SMTP: `localhost:${smtp.port}`,
      RELAIS_GOOGLE_SMTP_SECURITY: 'starttls',
      RUST_LOG: process.env.RUST_LOG ?? 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<never>((_, reject) =>
    server.once('exit', (code) => reject(new Error(`relais exited early with code ${code}`))),
  );

  await Promise.race([waitForHealth(`http://127.0.0.1:${port}/healthz`, Date.now() + 30_000), exited]);

  return async () => {
    server.kill('SIGTERM');
    smtp.process.kill('SIGTERM');
    google.process.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  };
}
