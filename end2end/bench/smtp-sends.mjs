// Test sends: the app against swaks, a server that never greets, and many slow sends at once.

import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { SMTP_PASSWORD, SMTP_USERNAME, succeeded } from './relais.mjs';
import { wrk } from './http-load.mjs';

const run = promisify(execFile);

/** Times one call of `task` in ms. */
async function timed(task) {
  const started = performance.now();
  const result = await task();
  return { ms: performance.now() - started, result };
}

/**
 * Times the app's "Envoyer un email de test" request and swaks doing the same transaction
 * (STARTTLS with certificate check, AUTH PLAIN, one message to the account), interleaved.
 */
export async function compareWithSwaks({ account, form, smtpPort, caFile, runs }) {
  const app = [];
  const swaks = [];
  for (let i = 0; i < runs; i++) {
    const send = await timed(() => account.testSend(form));
    if (!succeeded(send.result)) throw new Error(`test send failed: ${JSON.stringify(send.result.at(-1))}`);
    app.push(send.ms);
    const reference = await timed(() =>
      run('swaks', [
        '--server', 'localhost', '--port', String(smtpPort), '--tls', '--tls-verify', '--tls-ca-path', caFile,
        '--auth', 'PLAIN', '--auth-user', SMTP_USERNAME, '--auth-password', SMTP_PASSWORD,
        '--from', form.email, '--to', account.email, '--silent', '2',
      ]),
    );
    swaks.push(reference.ms);
  }
  return { app, swaks };
}

/** Starts a TCP server that accepts connections and never writes a byte, as a dead peer does. */
export async function startSilentServer() {
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    stop() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/** Times test sends to a server that never sends its banner, and resolves with the times and the failure. */
export async function timeSilentServer({ account, form, runs }) {
  const times = [];
  let failure;
  for (let i = 0; i < runs; i++) {
    const send = await timed(() => account.testSend(form));
    failure = send.result.at(-1);
    if (!('Failed' in failure)) throw new Error(`expected a failure, got ${JSON.stringify(failure)}`);
    times.push(send.ms);
  }
  return { times, failure: failure.Failed };
}

/**
 * Loads the settings page with wrk while `count` test sends wait on a slow SMTP server, and
 * compares its p99 with an idle run just before. The sends start first and are all in flight
 * while wrk runs.
 */
export async function pageUnderSlowSends({ account, form, count, settingsUrl, cookie, seconds }) {
  const idle = await wrk({ url: settingsUrl, cookie, seconds });
  const started = performance.now();
  const sends = Array.from({ length: count }, () => account.testSend(form));
  // The slow server's first reply comes after a second, and by then every send is connected.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const loaded = await wrk({ url: settingsUrl, cookie, seconds });
  const results = await Promise.allSettled(sends);
  const sendsSeconds = (performance.now() - started) / 1000;
  const passed = results.filter((result) => result.status === 'fulfilled' && succeeded(result.value)).length;
  return { idle, loaded, passed, sendsSeconds };
}
