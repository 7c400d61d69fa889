// Runs every benchmark against the release build and writes docs/benchmarks.md.
//
//   node end2end/bench/run.mjs [--quick] [--no-postgres]
//
// scripts/bench builds first and then calls this. --quick makes fewer and shorter runs, to try
// the script itself, and its figures are not the ones to publish.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { compareWithSwaks, pageUnderSlowSends, startSilentServer, timeSilentServer } from './smtp-sends.mjs';
import { expectPage, withMemorySamples, wrk } from './http-load.mjs';
import { measureInteractions, measurePageLoad } from './page-load.mjs';
import { measureSizes } from './sizes.mjs';
import { measureStartup } from './startup.mjs';
import { writeReport } from './report.mjs';
import {
  Account,
  createPostgresDatabase,
  makeCertificates,
  root,
  senderForm,
  startRelais,
  startSmtpServer,
  temporaryDirectory,
} from './relais.mjs';

const quick = process.argv.includes('--quick');
const withPostgres = !process.argv.includes('--no-postgres');
const PLAN = quick
  ? { loadRuns: 2, loadSeconds: 2, pageRuns: 2, interactionRuns: 2, sendRuns: 3, silentRuns: 1, slowRuns: 1, startupRuns: 2 }
  : { loadRuns: 5, loadSeconds: 5, pageRuns: 10, interactionRuns: 5, sendRuns: 10, silentRuns: 3, slowRuns: 3, startupRuns: 5 };
const SENDERS = 10;
const SLOW_SENDS = 200;
const SLOW_REPLY_MS = 1000;
const SEND_TIMEOUT_SECS = 10;
const PORT = Number(process.env.RELAIS_BENCH_PORT ?? 3931);

const log = (message) => console.log(`[bench] ${message}`);
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Creates the account whose settings page is measured: it has SENDERS senders. */
async function pageAccount(url, smtpPort) {
  const account = await Account.signUp(url, `page-${Date.now()}@example.com`);
  for (let i = 1; i <= SENDERS; i++) {
    await account.addSender(senderForm(smtpPort, `sender-${i}@example.com`));
  }
  return account;
}

/**
 * Starts Relais with the settings page of a 10-sender account as the static baseline. A first
 * start creates the account and saves its page, and the second serves that page from memory.
 */
async function startWithBaseline({ dataDir, env, smtpPort }) {
  const first = await startRelais({ port: PORT, dataDir, env });
  const account = await pageAccount(first.url, smtpPort);
  const html = await expectPage(`${first.url}/settings`, account.cookie, 'sender-10@example.com');
  await first.stop();
  const baseline = path.join(dataDir, 'settings-page.html');
  writeFileSync(baseline, html);
  const server = await startRelais({ port: PORT, dataDir, env: { ...env, RELAIS_BENCH_STATIC_PAGE: baseline } });
  await expectPage(`${server.url}/settings`, account.cookie, 'sender-10@example.com');
  await expectPage(`${server.url}/bench/static-page`, account.cookie, 'sender-10@example.com');
  return { server, account };
}

/** Loads the settings page and the static baseline in turns; returns each run's figures. */
async function settingsLoad(server, cookie) {
  const target = (pathName) => ({ url: `${server.url}${pathName}`, cookie, seconds: PLAN.loadSeconds });
  await wrk({ ...target('/settings'), seconds: 1 });
  await wrk({ ...target('/bench/static-page'), seconds: 1 });
  const runs = [];
  for (let i = 0; i < PLAN.loadRuns; i++) {
    const baseline = await wrk(target('/bench/static-page'));
    const page = await wrk(target('/settings'));
    runs.push({ baseline, page });
  }
  return runs;
}

async function sqliteSuite(smtp, slow, silent, caFile) {
  const data = temporaryDirectory('relais-bench-sqlite-');
  const env = {
    RELAIS_SMTP_ALLOWED_TARGETS: [smtp.port, slow.port, silent.port].map((port) => `localhost:${port}`).join(','),
    RELAIS_SMTP_EXTRA_CA_FILE: caFile,
    RELAIS_TEST_SENDS_PER_10_MIN: '10000',
    RELAIS_TEST_SEND_TIMEOUT_SECS: String(SEND_TIMEOUT_SECS),
  };
  const { server, account } = await startWithBaseline({ dataDir: data.dir, env, smtpPort: smtp.port });
  try {
    await pause(2000);
    const idleMemory = server.memory().rss;
    log('settings page under load (SQLite)');
    const load = await withMemorySamples(server, () => settingsLoad(server, account.cookie));

    log('page load and interactions in Chromium');
    const pageLoad = await measurePageLoad({ url: server.url, cookie: account.cookie, runs: PLAN.pageRuns });
    const interactions = await measureInteractions({
      url: server.url,
      cookie: account.cookie,
      runs: PLAN.interactionRuns,
    });

    // Sends come from a second account, so the measured page does not grow with their log.
    const sender = await Account.signUp(server.url, `sends-${Date.now()}@example.com`);
    log('test send against swaks');
    const swaks = await compareWithSwaks({
      account: sender,
      form: senderForm(smtp.port, 'swaks@example.com'),
      smtpPort: smtp.port,
      caFile,
      runs: PLAN.sendRuns,
    });
    log('server that never greets');
    const silentSends = await timeSilentServer({
      account: sender,
      form: senderForm(silent.port, 'silent@example.com'),
      runs: PLAN.silentRuns,
    });
    log(`${SLOW_SENDS} test sends to a slow server during page load`);
    const slowRuns = [];
    for (let i = 0; i < PLAN.slowRuns; i++) {
      slowRuns.push(
        await pageUnderSlowSends({
          account: sender,
          form: senderForm(slow.port, 'slow@example.com'),
          count: SLOW_SENDS,
          settingsUrl: `${server.url}/settings`,
          cookie: account.cookie,
          seconds: 3,
        }),
      );
    }
    const memory = { idle: idleMemory, underLoad: load.maxRss, peak: server.memory().peak };
    return { load: load.result, memory, pageLoad, interactions, swaks, silentSends, slowRuns };
  } finally {
    await server.stop();
    data.remove();
  }
}

async function postgresSuite(smtp, caFile) {
  const data = temporaryDirectory('relais-bench-postgres-');
  const database = createPostgresDatabase();
  const env = {
    RELAIS_DATABASE_URL: database.url,
    RELAIS_SMTP_ALLOWED_TARGETS: `localhost:${smtp.port}`,
    RELAIS_SMTP_EXTRA_CA_FILE: caFile,
    RELAIS_TEST_SENDS_PER_10_MIN: '10000',
  };
  let server;
  try {
    const started = await startWithBaseline({ dataDir: data.dir, env, smtpPort: smtp.port });
    server = started.server;
    log('settings page under load (PostgreSQL)');
    return await settingsLoad(server, started.account.cookie);
  } finally {
    await server?.stop();
    database.drop();
    data.remove();
  }
}

async function main() {
  const results = { plan: PLAN, quick, slowSends: SLOW_SENDS, slowReplyMs: SLOW_REPLY_MS, sendTimeoutSecs: SEND_TIMEOUT_SECS };
  log('asset sizes');
  results.sizes = measureSizes();
  log('start-up time');
  results.startup = await measureStartup({ port: PORT, runs: PLAN.startupRuns });

  const certificates = temporaryDirectory('relais-bench-tls-');
  const tls = makeCertificates(certificates.dir);
  const caFile = tls.caFile;
  const smtp = await startSmtpServer(tls);
  const slow = await startSmtpServer(tls, { replyDelayMs: SLOW_REPLY_MS });
  const silent = await startSilentServer();
  try {
    results.sqlite = await sqliteSuite(smtp, slow, silent, caFile);
    if (withPostgres) results.postgres = await postgresSuite(smtp, caFile);
  } finally {
    smtp.stop();
    slow.stop();
    silent.stop();
    certificates.remove();
  }

  const file = path.join(root, 'docs', 'benchmarks.md');
  writeReport(file, results);
  log(`wrote ${path.relative(root, file)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
