// HTTP load with wrk (Debian's package): requests per second and latency percentiles.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Runs wrk against `url` with `connections` open connections for `seconds`, sending `cookie`.
 * Resolves with requests/s and the p50 and p99 latency in ms. Throws when any response is not
 * 2xx or 3xx, or a socket error happened, so a redirect or an error page is never measured.
 */
export async function wrk({ url, cookie, connections = 50, seconds = 5, threads = 1 }) {
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--latency', '--timeout', '5s'];
  if (cookie) args.push('-H', `Cookie: ${cookie}`);
  const { stdout } = await run('wrk', [...args, url]);
  if (/Non-2xx or 3xx responses/.test(stdout) || /Socket errors/.test(stdout)) {
    throw new Error(`wrk saw failed requests on ${url}:\n${stdout}`);
  }
  return {
    rps: Number(stdout.match(/Requests\/sec:\s+([\d.]+)/)[1]),
    p50: latency(stdout, '50%'),
    p99: latency(stdout, '99%'),
  };
}

/** Reads one line of wrk's latency distribution, e.g. "99%    1.23ms", in ms. */
function latency(output, label) {
  const match = output.match(new RegExp(`^\\s+${label}\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm'));
  if (!match) throw new Error(`no ${label} latency in wrk output:\n${output}`);
  const scale = { us: 1e-3, ms: 1, s: 1e3 }[match[2]];
  return Number(match[1]) * scale;
}

/**
 * Checks that `url` returns 200 with HTML that contains `expected`, as the signed-in account
 * sees it, so that a load test measures the real page.
 */
export async function expectPage(url, cookie, expected) {
  const response = await fetch(url, { headers: { Cookie: cookie }, redirect: 'manual' });
  const body = await response.text();
  if (response.status !== 200 || !body.includes(expected)) {
    throw new Error(`${url} returned ${response.status} without "${expected}"`);
  }
  return body;
}

/** Samples the server's resident memory every 100 ms while `task` runs, and resolves with both. */
export async function withMemorySamples(server, task) {
  let maxRss = 0;
  const timer = setInterval(() => {
    maxRss = Math.max(maxRss, server.memory().rss);
  }, 100);
  try {
    const result = await task();
    return { result, maxRss: Math.max(maxRss, server.memory().rss) };
  } finally {
    clearInterval(timer);
  }
}
