// Measures the settings page in headless Chromium: load figures with and without throttling, and
// the latency of the sender list's buttons and of typing in the sender dialog.

import { chromium } from '@playwright/test';

const LAUNCH = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
};

/** DevTools "Slow 4G": 562.5 ms round trip, 1.6 Mbit/s down and 750 kbit/s up, both × 0.9. */
const SLOW_4G = {
  offline: false,
  latency: 562.5,
  downloadThroughput: ((1.6 * 1024 * 1024) / 8) * 0.9,
  uploadThroughput: ((750 * 1024) / 8) * 0.9,
};
const CPU_SLOWDOWN = 4;
/** Time left after hydration and the load event for late layout shifts and LCP candidates. */
const SETTLE_MS = 500;
/** Time left after an interaction for the browser to deliver its Event Timing entries. */
const EVENT_DELIVERY_MS = 300;
/** The lowest durationThreshold that Event Timing accepts, so shorter interactions go unreported. */
const EVENT_THRESHOLD_MS = 16;

const EDIT_DIALOG = "Configuration de l'expéditeur (SMTP)";
const TYPED_TEXT = 'abcdefghij';

/**
 * Installs the observers before any page script runs. Buffered observers also see the entries
 * recorded before they were created.
 */
function installObservers(threshold) {
  const state = { cls: 0, lcp: 0, events: [], clickToDialog: [] };
  window.__bench = state;
  // CLS: the sum of layout-shift scores not caused by recent user input.
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) state.cls += entry.value;
  }).observe({ type: 'layout-shift', buffered: true });
  // LCP: the start time of the last largest-contentful-paint candidate.
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) state.lcp = entry.startTime;
  }).observe({ type: 'largest-contentful-paint', buffered: true });
  // Event Timing: one entry per event of an interaction that took at least `threshold` ms.
  new PerformanceObserver((list) => {
    for (const { interactionId, duration, startTime } of list.getEntries()) {
      if (interactionId) state.events.push({ interactionId, duration, startTime });
    }
  }).observe({ type: 'event', durationThreshold: threshold, buffered: true });
  // Click to dialog: from pointerdown to a task after the first frame that shows an open dialog.
  addEventListener('pointerdown', (event) => {
    const start = event.timeStamp;
    const poll = () => {
      if (document.querySelector('dialog[open]')) {
        setTimeout(() => state.clickToDialog.push(performance.now() - start), 0);
      } else if (performance.now() - start < 5000) {
        requestAnimationFrame(poll);
      }
    };
    requestAnimationFrame(poll);
  }, true);
}

/** Opens a fresh context (empty cache) signed in with `cookie`, with the observers installed. */
async function signedInPage(browser, url, cookie) {
  const context = await browser.newContext({ locale: 'fr-FR' });
  const value = cookie.slice(cookie.indexOf('=') + 1);
  await context.addCookies([{ name: 'relais_session', value, url }]);
  await context.addInitScript(installObservers, EVENT_THRESHOLD_MS);
  return { context, page: await context.newPage() };
}

/** Loads /settings and waits until hydration has ended. */
async function loadSettings(page, url, timeout) {
  await page.goto(`${url}/settings`, { waitUntil: 'load', timeout });
  await page.waitForSelector('body[data-hydrated="true"]', { state: 'attached', timeout });
}

/** Reads one run's load figures, all in ms from the start of navigation except CLS. */
function readLoadFigures() {
  const [navigation] = performance.getEntriesByType('navigation');
  const fcp = performance.getEntriesByName('first-contentful-paint', 'paint')[0];
  const hydrated = performance.getEntriesByName('relais-hydrated', 'mark')[0];
  return {
    // TTFB: when the first byte of the HTML response arrived. NOTE: under DevTools network
    // emulation Chromium 156 sets responseStart before the emulated latency, which delays the body.
    ttfb: navigation.responseStart - navigation.startTime,
    // FCP: the first paint of any text or image.
    fcp: fcp ? fcp.startTime : NaN,
    // Hydrated: the mark that the app sets once hydration has ended.
    hydrated: hydrated ? hydrated.startTime : NaN,
    cls: window.__bench.cls,
    lcp: window.__bench.lcp || NaN,
  };
}

/**
 * Loads `${url}/settings` `runs` times per condition, each time in a fresh browser context.
 * The baseline condition loads the same page's bytes from /bench/static-page, which does not
 * hydrate. Resolves with `{ unthrottled, baseline, throttled }`, each holding lists
 * `{ ttfb, fcp, hydrated, cls, lcp }`.
 */
export async function measurePageLoad({ url, cookie, runs = 10 }) {
  const browser = await chromium.launch(LAUNCH);
  const results = {};
  try {
    for (const condition of ['unthrottled', 'baseline', 'throttled']) {
      const figures = { ttfb: [], fcp: [], hydrated: [], cls: [], lcp: [] };
      for (let run = 0; run < runs; run++) {
        const { context, page } = await signedInPage(browser, url, cookie);
        try {
          if (condition === 'throttled') {
            const cdp = await context.newCDPSession(page);
            await cdp.send('Network.enable');
            await cdp.send('Network.emulateNetworkConditions', SLOW_4G);
            await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
          }
          if (condition === 'baseline') {
            // The same bytes without hydration: their nonce does not match this response's policy.
            const response = await page.goto(`${url}/bench/static-page`, { waitUntil: 'load' });
            if (!response.ok()) throw new Error(`/bench/static-page returned ${response.status()}: is RELAIS_BENCH_STATIC_PAGE set?`);
          } else {
            await loadSettings(page, url, condition === 'throttled' ? 120_000 : 30_000);
          }
          await page.waitForTimeout(SETTLE_MS);
          const figure = await page.evaluate(readLoadFigures);
          for (const [name, value] of Object.entries(figure)) figures[name].push(value);
        } finally {
          await context.close();
        }
      }
      results[condition] = figures;
    }
  } finally {
    await browser.close();
  }
  return results;
}

/** Clears what the observers have collected, so the next reading covers one interaction. */
function resetEvents(page) {
  return page.evaluate(() => {
    window.__bench.events = [];
    window.__bench.clickToDialog = [];
  });
}

/**
 * Waits for late entries, then reads the interactions since the last reset. Returns the longest
 * interaction, where an interaction lasts as long as its longest event, and the click-to-dialog time.
 */
async function readInteraction(page) {
  await page.waitForTimeout(EVENT_DELIVERY_MS);
  return page.evaluate(() => {
    const longest = new Map();
    for (const { interactionId, duration } of window.__bench.events) {
      longest.set(interactionId, Math.max(duration, longest.get(interactionId) ?? 0));
    }
    return {
      duration: Math.max(0, ...longest.values()),
      clickToDialog: window.__bench.clickToDialog[0] ?? NaN,
    };
  });
}

/**
 * Measures three interactions on the hydrated /settings page, once per run in a fresh context:
 * opening the first sender's edit dialog, typing in its name field (slowest keystroke), and
 * opening its delete confirmation. Resolves with one duration in ms per run for each.
 * A duration of 0 means the browser reported nothing, that is under 16 ms.
 * `reportedBelowThreshold` counts those runs. `clickToDialog` contains the time from pointerdown
 * to the frame after the dialog opened, measured in the page.
 */
export async function measureInteractions({ url, cookie, runs = 5 }) {
  const browser = await chromium.launch(LAUNCH);
  const names = ['openEdit', 'typing', 'openDelete'];
  const results = Object.fromEntries(names.map((name) => [name, []]));
  results.reportedBelowThreshold = Object.fromEntries(names.map((name) => [name, 0]));
  results.clickToDialog = { openEdit: [], openDelete: [] };
  const record = (name, { duration, clickToDialog }) => {
    results[name].push(duration);
    if (duration < EVENT_THRESHOLD_MS) results.reportedBelowThreshold[name] += 1;
    if (name in results.clickToDialog) results.clickToDialog[name].push(clickToDialog);
  };
  try {
    for (let run = 0; run < runs; run++) {
      const { context, page } = await signedInPage(browser, url, cookie);
      try {
        await loadSettings(page, url, 30_000);
        await page.waitForTimeout(SETTLE_MS);

        const editDialog = page.getByRole('dialog', { name: EDIT_DIALOG });
        await resetEvents(page);
        await page.getByRole('button', { name: /^Modifier l'expéditeur/ }).first().click();
        await editDialog.waitFor({ state: 'visible' });
        record('openEdit', await readInteraction(page));

        // Focusing through the DOM is no interaction, so only the keystrokes are measured.
        await editDialog.getByLabel("Nom de l'expéditeur").focus();
        await resetEvents(page);
        await page.keyboard.type(TYPED_TEXT, { delay: 50 });
        record('typing', await readInteraction(page));
        await page.keyboard.press('Escape');
        await editDialog.waitFor({ state: 'hidden' });

        const confirm = page.getByRole('dialog').filter({ hasText: 'Supprimer maintenant' });
        await resetEvents(page);
        await page.getByRole('button', { name: /^Supprimer l'expéditeur/ }).first().click();
        await confirm.getByRole('button', { name: 'Supprimer maintenant' }).waitFor({ state: 'visible' });
        record('openDelete', await readInteraction(page));
        await confirm.getByRole('button', { name: 'Annuler' }).click();
        await confirm.waitFor({ state: 'hidden' });
      } finally {
        await context.close();
      }
    }
  } finally {
    await browser.close();
  }
  return results;
}
