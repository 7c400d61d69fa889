// Size of the WebAssembly and JavaScript sent to the browser: raw, gzip -9 and brotli -q 11.
//
//   node end2end/bench/sizes.mjs           prints the sizes
//   node end2end/bench/sizes.mjs --check   also exits with 1 when a size is over its ceiling
//
// Reads the release build in target/site/pkg (cargo leptos build --release).

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Budgets in bytes of the brotli -q 11 output (1 kB = 1000 bytes). */
export const BUDGETS = { wasm: 200_000, js: 6_000 };

/**
 * Ceilings that --check enforces until the budgets above are met: the sizes of the current build
 * rounded up, so that the bundle can shrink but not grow. docs/benchmarks.md explains the gap.
 */
export const CEILINGS = { wasm: 262_000, js: 6_000 };

function gzip9(bytes) {
  return zlib.gzipSync(bytes, { level: 9 }).length;
}

function brotli11(bytes) {
  return zlib.brotliCompressSync(bytes, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  }).length;
}

/** Finds the one built file with `extension` in the pkg directory, hashed name or not. */
function builtFile(pkgDir, extension) {
  const names = readdirSync(pkgDir).filter((name) => name.endsWith(`.${extension}`));
  if (names.length !== 1) {
    throw new Error(`expected one .${extension} file in ${pkgDir}, found ${names.length}: run cargo leptos build --release`);
  }
  return path.join(pkgDir, names[0]);
}

/** Measures the shipped assets and returns one entry per kind (wasm, js, css). */
export function measureSizes(siteRoot = path.join(root, 'target', 'site')) {
  const pkgDir = path.join(siteRoot, 'pkg');
  return ['wasm', 'js', 'css'].map((kind) => {
    const file = builtFile(pkgDir, kind);
    const bytes = readFileSync(file);
    return {
      kind,
      file: path.basename(file),
      raw: bytes.length,
      gzip: gzip9(bytes),
      brotli: brotli11(bytes),
      budget: BUDGETS[kind],
      ceiling: CEILINGS[kind],
    };
  });
}

/** Returns the entries whose brotli size is over their ceiling. */
export function overCeiling(sizes) {
  return sizes.filter((entry) => entry.ceiling !== undefined && entry.brotli > entry.ceiling);
}

const kB = (bytes) => `${(bytes / 1000).toFixed(1)} kB`;

function printSizes(sizes) {
  const limit = (value, size) => (value === undefined ? '-' : `${kB(value)} ${size <= value ? 'ok' : 'OVER'}`);
  console.log('asset   raw        gzip -9    brotli -q 11   budget (brotli)   ceiling (brotli)');
  for (const entry of sizes) {
    console.log(
      `${entry.kind.padEnd(8)}${kB(entry.raw).padEnd(11)}${kB(entry.gzip).padEnd(11)}${kB(entry.brotli).padEnd(15)}` +
        `${limit(entry.budget, entry.brotli).padEnd(18)}${limit(entry.ceiling, entry.brotli)}`,
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = measureSizes();
  printSizes(sizes);
  const over = overCeiling(sizes);
  if (process.argv.includes('--check') && over.length > 0) {
    for (const entry of over) {
      console.error(`${entry.file}: ${kB(entry.brotli)} brotli is over its ${kB(entry.ceiling)} ceiling`);
    }
    process.exit(1);
  }
}
