import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

export const SMTP_USERNAME = 'mailbox@example.com';
export const SMTP_PASSWORD = 'app-password-123';

export interface TestCertificates {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** Creates a throwaway certificate authority and a server certificate for localhost in `dir`. */
export function makeCertificates(dir: string): TestCertificates {
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });

  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Relais test CA',
    '-keyout', file('ca.key'), '-out', file('ca.pem'));
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost',
    '-keyout', file('server.key'), '-out', file('server.csr'));
  writeFileSync(file('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'),
    '-CAcreateserial', '-days', '2', '-extfile', file('server.ext'), '-out', file('server.pem'));

  return { caFile: file('ca.pem'), certFile: file('server.pem'), keyFile: file('server.key') };
}

/** Starts the SMTP harness (a real smtp-server) and resolves with its port. */
export async function startSmtpServer(options: object): Promise<{ port: number; process: ChildProcess }> {
  const harness = path.resolve(__dirname, '..', 'smtp-harness', 'server.mjs');
  const child = spawn(process.execPath, [harness], {
    env: { ...process.env, SMTP_HARNESS_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout! });

  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the SMTP harness exited with code ${code}`)));
    lines.on('line', (line) => {
      const event = JSON.parse(line);
      if (event.event === 'listening') resolve(event.port);
    });
  });
  return { port, process: child };
}
