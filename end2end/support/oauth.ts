import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

export const OAUTH_MAILBOX = 'mailbox@example.com';
export const OAUTH_CLIENT_ID = 'relais-e2e';
export const OAUTH_CLIENT_SECRET = 'e2e-client-secret';

/** Starts the OAuth provider harness and resolves with its issuer URL and child process. */
export async function startOAuthProvider(options: object): Promise<{ issuer: string; process: ChildProcess }> {
  const harness = path.resolve(__dirname, '..', 'oauth-harness', 'server.mjs');
  const child = spawn(process.execPath, [harness], {
    env: { ...process.env, OAUTH_HARNESS_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout! });

  const issuer = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the OAuth harness exited with code ${code} before listening`)));
    lines.on('line', (line) => {
      const event = JSON.parse(line);
      if (event.event === 'listening') resolve(event.issuer);
    });
  });
  return { issuer, process: child };
}

/** Sends a test control to the provider, such as `{ revokeAll: true }`. */
export async function controlProvider(controls: object): Promise<void> {
  const response = await fetch(`${process.env.RELAIS_E2E_OAUTH_ISSUER}/_harness/control`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(controls),
  });
  if (!response.ok) {
    throw new Error(`the OAuth harness rejected control ${JSON.stringify(controls)}: HTTP ${response.status}`);
  }
}
