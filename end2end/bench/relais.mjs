// Starts the release build of Relais and the local SMTP server, and drives an account over HTTP
// the way the browser does.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SMTP_USERNAME = 'mailbox@example.com';
export const SMTP_PASSWORD = 'app-password-123';
export const ACCOUNT_PASSWORD = 'correct horse battery';
const POSTGRES_URL = process.env.RELAIS_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';

/** Creates a throwaway CA and a certificate for localhost, and returns the file paths. */
export function makeCertificates(dir) {
  const file = (name) => path.join(dir, name);
  const openssl = (...args) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Relais bench CA',
    '-keyout', file('ca.key'), '-out', file('ca.pem'));
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost',
    '-keyout', file('server.key'), '-out', file('server.csr'));
  writeFileSync(file('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'),
    '-CAcreateserial', '-days', '2', '-extfile', file('server.ext'), '-out', file('server.pem'));
  return { caFile: file('ca.pem'), certFile: file('server.pem'), keyFile: file('server.key') };
}

/** Starts the SMTP harness with STARTTLS, AUTH and the `extra` options, and resolves with its port. */
export async function startSmtpServer(certificates, extra = {}) {
  const options = {
    tls: 'starttls',
    certFile: certificates.certFile,
    keyFile: certificates.keyFile,
    auth: { username: SMTP_USERNAME, password: SMTP_PASSWORD },
    ...extra,
  };
  const child = spawn(process.execPath, [path.join(root, 'end2end', 'smtp-harness', 'server.mjs')], {
    env: { ...process.env, SMTP_HARNESS_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout });
  const port = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the SMTP harness exited with code ${code}`)));
    lines.on('line', (line) => {
      const event = JSON.parse(line);
      if (event.event === 'listening') resolve(event.port);
    });
  });
  return { port, stop: () => child.kill('SIGTERM') };
}

/** Creates an empty PostgreSQL database for one run, and returns its URL and a function that drops it. */
export function createPostgresDatabase() {
  const name = `relais_bench_${process.pid}_${Date.now()}`;
  const psql = (sql) => execFileSync('psql', [`${POSTGRES_URL}/postgres`, '-Atqc', sql], { stdio: 'pipe' });
  psql(`CREATE DATABASE ${name}`);
  return {
    url: `${POSTGRES_URL}/${name}`,
    drop: () => psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/**
 * Starts target/release/relais on `port` and waits for its first 200 on /healthz.
 * Resolves with the server handle, whose `startupMs` is the time from spawn to that response.
 */
export async function startRelais({ port, dataDir, env = {} }) {
  const started = process.hrtime.bigint();
  // With RUST_BACKTRACE set in the caller's shell, Relais was seen to map its debug symbols at
  // start-up, about 40 MB more resident memory, so the benchmark leaves it out.
  const { RUST_BACKTRACE: _backtrace, RUST_LIB_BACKTRACE: _libBacktrace, ...inherited } = process.env;
  const child = spawn(path.join(root, 'target', 'release', 'relais'), [], {
    cwd: root,
    env: {
      ...inherited,
      RELAIS_LISTEN_ADDR: `127.0.0.1:${port}`,
      RELAIS_DATA_DIR: dataDir,
      RELAIS_SITE_ROOT: path.join(root, 'target', 'site'),
      RELAIS_DEFAULT_SENDER: 'noreply@relais.example',
      RUST_LOG: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((_, reject) =>
    child.once('exit', (code) => reject(new Error(`relais exited with code ${code} while starting`))),
  );
  const url = `http://127.0.0.1:${port}`;
  await Promise.race([waitForHealth(url), exited]);
  const startupMs = Number(process.hrtime.bigint() - started) / 1e6;
  exited.catch(() => {});
  return {
    url,
    pid: child.pid,
    startupMs,
    /** Resident memory in MB, now (`VmRSS`) and at its peak so far (`VmHWM`). */
    memory() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const field = (name) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))[1]) / 1024;
      return { rss: field('VmRSS'), peak: field('VmHWM') };
    },
    async stop() {
      if (child.exitCode !== null) return;
      const done = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await done;
    },
  };
}

/** Polls /healthz every millisecond until it returns 200, for at most 30 s. */
async function waitForHealth(url) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error(`Relais did not respond on ${url}/healthz within 30 s: check its log above`);
}

/** Makes a fresh temporary directory, and returns it and a function that removes it. */
export function temporaryDirectory(prefix) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A signed-in account, driven through the server functions as the browser calls them. */
export class Account {
  constructor(url, email) {
    this.url = url;
    this.email = email;
    this.cookie = '';
  }

  /** Creates the account and keeps its session cookie. */
  static async signUp(url, email) {
    const account = new Account(url, email);
    const response = await account.call('sign_up', {
      display_name: 'Banc Essai',
      email,
      password: ACCOUNT_PASSWORD,
    });
    await expectOk(response, 'sign_up');
    const session = response.headers.getSetCookie().find((cookie) => cookie.startsWith('relais_session='));
    if (!session) throw new Error('sign_up set no session cookie');
    account.cookie = session.split(';')[0];
    return account;
  }

  call(name, fields) {
    return fetch(`${this.url}/api/${name}`, {
      method: 'POST',
      headers: {
        Origin: this.url,
        Accept: 'application/json',
        'Content-Type': 'application/x-www-form-urlencoded',
        Cookie: this.cookie,
      },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    });
  }

  /** Runs "Envoyer un email de test" and resolves with the events of the stream. */
  async testSend(form) {
    const response = await this.call('test_sender', senderFields(form));
    await expectOk(response, 'test_sender');
    const text = await response.text();
    return text.split('\n').filter(Boolean).map((line) => JSON.parse(line));
  }

  /** Tests and then saves a sender, and throws unless both succeed. */
  async addSender(form) {
    const events = await this.testSend(form);
    if (!succeeded(events)) throw new Error(`test send failed: ${JSON.stringify(events.at(-1))}`);
    await expectOk(await this.call('save_sender', senderFields(form)), 'save_sender');
  }
}

/** Tells whether a test-send stream ended with the message accepted. */
export function succeeded(events) {
  return events.length > 0 && 'Succeeded' in events.at(-1);
}

/** Returns the sender dialog's fields for the local SMTP server on `port`. */
export function senderForm(port, email) {
  return {
    display_name: 'Équipe Ventes',
    email,
    reply_to: '',
    smtp_host: 'localhost',
    smtp_port: String(port),
    security: 'starttls',
    username: SMTP_USERNAME,
    password: SMTP_PASSWORD,
  };
}

function senderFields(form) {
  return Object.fromEntries(Object.entries(form).map(([name, value]) => [`form[${name}]`, value]));
}

async function expectOk(response, name) {
  if (!response.ok) {
    throw new Error(`${name} failed with status ${response.status}: ${await response.text()}`);
  }
}
