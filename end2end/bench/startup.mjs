// Start-up time: from spawning the binary to its first 200 on /healthz.

import { startRelais, temporaryDirectory } from './relais.mjs';

/**
 * Starts and stops Relais `runs` times on SQLite: on an empty data directory (migrations and key
 * creation included) and again on the directory the first start left.
 */
export async function measureStartup({ port, runs }) {
  const fresh = [];
  const existing = [];
  for (let i = 0; i < runs; i++) {
    const data = temporaryDirectory('relais-bench-start-');
    try {
      const first = await startRelais({ port, dataDir: data.dir });
      fresh.push(first.startupMs);
      await first.stop();
      const second = await startRelais({ port, dataDir: data.dir });
      existing.push(second.startupMs);
      await second.stop();
    } finally {
      data.remove();
    }
  }
  return { fresh, existing };
}
