// Plays live HLS streams with hls.js (tests/browser/node_modules, pinned in package.json) in
// Debian's chromium driven by playwright-core: one page per playlist URL, all at once.
// Usage: node play_live.mjs [--insecure-tls] <seconds> <screenshot prefix> <playlist url>...
// Each page is served at the playlist's own origin (the player page is answered by the browser
// itself, so the stream needs no CORS), plays muted and is watched until its video's currentTime
// has advanced by <seconds> or 30 s pass. --insecure-tls accepts a self-signed certificate (the
// tests' own). Prints one JSON line per URL on stdout:
//   {url, ok, advanced, startTime, endTime, width, height, level, fatal: [...], errors: [...],
//    problems: [...], screenshot, requests: [{path, protocol}, ...]}
// ok = advanced by <seconds>, no fatal hls.js error, no page error. `requests` are the page's
// requests to the stream's origin (playlists, segments) with the protocol the browser used for
// each as its Resource Timing reports it (nextHopProtocol: "h2" for HTTP/2, "http/1.1").
// Exit status 0 when all ok.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const insecureTls = args[0] === '--insecure-tls';
if (insecureTls) args.shift();
const [seconds, prefix, ...urls] = args;
if (!(Number(seconds) > 0) || !prefix || urls.length === 0) {
  console.error('usage: node play_live.mjs [--insecure-tls] <seconds> <screenshot prefix> <playlist url>...');
  process.exit(2);
}
const want = Number(seconds);
const hlsPath = createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js');
const deadlineMs = 30000 + want * 1000;

// No favicon: the page's only requests to the stream's origin are the player's.
const playerHtml = `<!doctype html><meta charset="utf-8"><title>live</title><link rel="icon" href="data:,">
<style>body{margin:0;background:#000}video{width:640px;height:360px}</style>
<video id="v" muted autoplay playsinline></video>`;

async function play(context, url, index) {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
  const player = new URL('/__player.html', url).href;
  await page.route(player, (route) => route.fulfill({ contentType: 'text/html', body: playerHtml }));
  await page.goto(player, { waitUntil: 'load' });
  await page.addScriptTag({ path: hlsPath });
  const supported = await page.evaluate(() => window.Hls.isSupported());
  if (!supported) {
    await page.close();
    return { url, ok: false, problems: ['hls.js: Media Source Extensions or H.264 not supported'] };
  }
  await page.evaluate((src) => {
    const video = document.getElementById('v');
    const hls = new window.Hls({ lowLatencyMode: false, liveSyncDurationCount: 2 });
    window.__events = { fatal: [], errors: [], level: null };
    hls.on(window.Hls.Events.ERROR, (_, d) => {
      const e = `${d.type}/${d.details}`;
      (d.fatal ? window.__events.fatal : window.__events.errors).push(e);
    });
    hls.on(window.Hls.Events.LEVEL_LOADED, (_, d) => { window.__events.level = d.details.live ? 'live' : 'vod'; });
    hls.loadSource(src);
    hls.attachMedia(video);
    video.play().catch(() => {});
  }, url);
  // Playback has started when currentTime moves; from there it must advance by `want`.
  const state = () => page.evaluate(() => {
    const v = document.getElementById('v');
    return { t: v.currentTime, w: v.videoWidth, h: v.videoHeight, ...window.__events };
  });
  const start = Date.now();
  let first = null;
  let s = await state();
  while (Date.now() - start < deadlineMs && s.fatal.length === 0) {
    if (first === null && s.t > 0) first = s.t;
    if (first !== null && s.t - first >= want) break;
    await page.waitForTimeout(200);  // a poll interval, not a stand-in for a condition
    s = await state();
  }
  // Same-origin entries carry nextHopProtocol without a Timing-Allow-Origin header.
  const requests = await page.evaluate((origin) => performance.getEntriesByType('resource')
    .filter((e) => new URL(e.name).origin === origin)
    .map((e) => { const u = new URL(e.name); return { path: u.pathname + u.search, protocol: e.nextHopProtocol }; }),
  new URL(url).origin);
  const screenshot = `${prefix}-${index}.png`;
  await page.screenshot({ path: screenshot });
  await page.close();
  const advanced = first === null ? 0 : s.t - first;
  return {
    url, ok: advanced >= want && s.fatal.length === 0 && problems.length === 0,
    advanced: Number(advanced.toFixed(2)), startTime: first, endTime: s.t, width: s.w, height: s.h,
    level: s.level, fatal: s.fatal, errors: s.errors, problems, screenshot, requests,
  };
}

const profile = mkdtempSync(join(tmpdir(), 'play-live-chromium-'));
let allOk = false;
try {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    ignoreHTTPSErrors: insecureTls,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--autoplay-policy=no-user-gesture-required'],
    viewport: { width: 640, height: 360 },
  });
  try {
    const results = await Promise.all(urls.map((u, i) => play(context, u, i)));
    for (const r of results) console.log(JSON.stringify(r));
    allOk = results.every((r) => r.ok);
  } finally {
    await context.close();
  }
} finally {
  rmSync(profile, { recursive: true, force: true });
}
process.exit(allOk ? 0 : 1);
