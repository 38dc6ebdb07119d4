// Debian's chromium (through playwright-core) against cdn-edge over TLS: opens <page url>, fetches
// each <path> from the page at once (many streams on one connection) and prints one JSON line:
// the protocol of every resource as the browser's Resource Timing reports it (nextHopProtocol,
// "h2" for HTTP/2), the bytes of each body and their SHA-256, and any console or page errors.
// Usage: node h2_fetch.mjs <page url> <path>...
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [url, ...paths] = process.argv.slice(2);
if (!url || paths.length === 0) {
  console.error('usage: node h2_fetch.mjs <page url> <path>...');
  process.exit(2);
}

const profile = mkdtempSync(join(tmpdir(), 'h2-fetch-chromium-'));
const problems = [];
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  ignoreHTTPSErrors: true, // the test's self-signed certificate
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = context.pages()[0] ?? await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
  page.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
  await page.goto(url, { waitUntil: 'load' });
  const result = await page.evaluate(async (paths) => {
    const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
    const bodies = await Promise.all(paths.map(async (p) => {
      const r = await fetch(p, { cache: 'no-store' });
      const body = await r.arrayBuffer();
      return { path: p, status: r.status, bytes: body.byteLength,
               sha256: hex(await crypto.subtle.digest('SHA-256', body)) };
    }));
    const protocols = performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
      .map((e) => ({ name: new URL(e.name).pathname, protocol: e.nextHopProtocol }));
    return { bodies, protocols };
  }, paths);
  console.log(JSON.stringify({ ...result, problems }));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
