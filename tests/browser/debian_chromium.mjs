// Debian's chromium (never a downloaded browser) through playwright-core, headless, for the
// player pages: a throwaway profile, autoplay without a gesture, and no throttling of pages that
// are not in front (several players play side by side in one browser).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

// Runs use(context) in a fresh browser and always closes it and removes its profile.
export async function withChromium(name, { insecureTls = false, viewport = { width: 640, height: 360 } }, use) {
  const profile = mkdtempSync(join(tmpdir(), `${name}-chromium-`));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      ignoreHTTPSErrors: insecureTls,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync',
             '--autoplay-policy=no-user-gesture-required', '--disable-background-timer-throttling',
             '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows'],
      viewport,
    });
    try {
      return await use(context);
    } finally {
      await context.close();
    }
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

const playerHtml = `<!doctype html><meta charset="utf-8"><title>live</title><link rel="icon" href="data:,">
<style>body{margin:0;background:#000}video{width:640px;height:360px}</style>
<video id="v" muted autoplay playsinline></video>`;

// A page with one muted <video id="v"> served at the stream's own origin (answered by the browser
// itself, so the stream needs no CORS) and no favicon: the page's only requests to that origin are
// the player's. `problems` collects page errors and console errors as they happen.
export async function openPlayerPage(context, streamUrl) {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
  const player = new URL('/__player.html', streamUrl).href;
  await page.route(player, (route) => route.fulfill({ contentType: 'text/html', body: playerHtml }));
  await page.goto(player, { waitUntil: 'load' });
  // A minute of LL-HLS is more requests than the default 250 entries.
  await page.evaluate(() => performance.setResourceTimingBufferSize(100000));
  return { page, problems };
}

// The page's requests to the stream's origin with the protocol the browser used for each, as its
// Resource Timing reports it (nextHopProtocol: "h2" for HTTP/2, "http/1.1"), and when each started
// and how long it took (page seconds), to match a stall with a late answer.
export function originRequests(page, streamUrl) {
  return page.evaluate((origin) => performance.getEntriesByType('resource')
    .filter((e) => new URL(e.name).origin === origin)
    .map((e) => {
      const u = new URL(e.name);
      return { path: u.pathname + u.search, protocol: e.nextHopProtocol, start: Number((e.startTime / 1000).toFixed(3)),
               duration: Number((e.duration / 1000).toFixed(3)) };
    }),
  new URL(streamUrl).origin);
}
