// Drives Debian's chromium (never a downloaded browser) through playwright-core against cdn-geo's
// fleet page. Usage: node fleet_page.mjs <page url> <screenshot.png>
// It loads the page, waits for the edge rows, prints one JSON line per event on stdout and then
// takes commands on stdin, one per line, so the test can change the fleet in between:
//   wait <timeout ms> <edge or origin> <column> <text>  until that row's column (health, steering,
//                                             reason, hit-ratio, or live-channels) starts with <text>
//                                             (the rest of the line);
//                                             plot: the health strip's newest bucket has one of the
//                                             classes in <text>, e.g. down|partial
//   screenshot [path]                   full page to <screenshot.png> (or path)
//   quit
// Console errors, page errors and CSP violations are collected and reported with every event.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const [url, png] = process.argv.slice(2);
if (!url || !png) {
  console.error('usage: node fleet_page.mjs <page url> <screenshot.png>');
  process.exit(2);
}

const profile = mkdtempSync(join(tmpdir(), 'fleet-page-chromium-'));
const problems = [];
const emit = (event) => console.log(JSON.stringify({ ...event, problems }));

const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1366, height: 768 }, // a laptop screen
});
try {
  const page = context.pages()[0] ?? await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
  page.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
  page.on('requestfailed', (r) => problems.push('requestfailed: ' + r.url()));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(r.status() + ': ' + r.url()); });

  const response = await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('tr[data-edge]', { timeout: 10000 });
  const rows = () => page.$$eval('tr[data-edge]', (trs) => Object.fromEntries(
      trs.map((tr) => [tr.dataset.edge, {
        health: tr.querySelector('.state').textContent,
        steering: tr.querySelector('.badge.steering').textContent,
        reason: tr.querySelector('.reason').textContent,
        connections: tr.querySelector('.load .figure').textContent,
        connectionsBar: { width: tr.querySelector('.bar span').style.width,
                          high: tr.querySelector('.bar').classList.contains('high') },
        hitRatio: tr.querySelector('.hit-ratio').firstChild.textContent,
        sessions: tr.querySelector('.sessions').textContent,
        plot: {
          // Buckets drawn per line, and the health strip's classes oldest first.
          lines: Object.fromEntries([...tr.querySelectorAll('svg.plot polyline')].map(
              (p) => [p.getAttribute('class'), Number(p.dataset.buckets)])),
          points: [...tr.querySelectorAll('svg.plot polyline')].map(
              (p) => p.getAttribute('points').split(' ').filter(Boolean).length),
          health: [...tr.querySelectorAll('svg.plot g.health rect')].map((r) => r.getAttribute('class')),
          span: tr.querySelector('td.history .span').textContent,
        },
      }])));
  const origins = () => page.$$eval('tr[data-origin]', (trs) => Object.fromEntries(
      trs.map((tr) => [tr.dataset.origin, {
        health: tr.querySelector('.state').textContent,
        reason: tr.querySelector('.reason').textContent,
        liveChannels: tr.querySelector('.live-channels').firstChild.textContent,
        requests: tr.querySelector('.requests').firstChild.textContent,
      }])));
  const polls = () => page.evaluate(() => Number(document.body.dataset.polls || 0));
  const counts = await page.$$eval('#counts div', (ds) => Object.fromEntries(
      ds.map((d) => [d.dataset.count, d.querySelector('dd').textContent])));
  emit({ event: 'rendered', status: response.status(), csp: response.headers()['content-security-policy'],
         title: await page.title(), edges: await rows(), origins: await origins(), counts,
         polls: await polls(),
         sections: await page.$$eval('main section[aria-label], main section[data-site]',
                                     (ss) => ss.map((s) => s.dataset.site || s.getAttribute('aria-label'))) });

  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, ...arg] = line.trim().split(/\s+/);
    if (cmd === 'quit') break;
    if (cmd === 'screenshot') {
      const path = arg[0] || png;
      await page.screenshot({ path, fullPage: true });
      emit({ event: 'screenshot', path });
    } else if (cmd === 'wait') {
      const [timeout, edge, column, ...words] = arg;
      const text = words.join(' ');
      const start = Date.now(), before = await polls();
      try {
        await page.waitForFunction(([e, c, t]) => {
          const tr = [...document.querySelectorAll('tr[data-edge], tr[data-origin]')].find(
              (r) => (r.dataset.edge ?? r.dataset.origin) === e);
          if (tr && c === 'plot') {
            const last = tr.querySelector('svg.plot g.health rect:last-child');
            return !!last && t.split('|').includes(last.getAttribute('class'));
          }
          const cell = tr && tr.querySelector({ health: '.state', steering: '.badge.steering',
                                                reason: '.reason', 'hit-ratio': '.hit-ratio',
                                                'live-channels': '.live-channels' }[c]);
          return !!cell && cell.textContent.startsWith(t);
        }, [edge, column, text], { timeout: Number(timeout) || 10000, polling: 100 });
        emit({ event: 'state', ok: true, edge, column, text, ms: Date.now() - start,
               polls: (await polls()) - before, edges: await rows(), origins: await origins() });
      } catch (e) {
        emit({ event: 'state', ok: false, edge, column, text, error: e.message, edges: await rows(),
               origins: await origins() });
      }
    } else {
      emit({ event: 'error', error: 'unknown command: ' + line });
    }
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
