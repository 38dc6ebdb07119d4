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
import { createRequire } from 'node:module';
import { openPlayerPage, originRequests, withChromium } from './debian_chromium.mjs';

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

async function play(context, url, index) {
  const { page, problems } = await openPlayerPage(context, url);
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
  const requests = await originRequests(page, url);
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

const allOk = await withChromium('play-live', { insecureTls }, async (context) => {
  const results = await Promise.all(urls.map((u, i) => play(context, u, i)));
  for (const r of results) console.log(JSON.stringify(r));
  return results.every((r) => r.ok);
});
process.exit(allOk ? 0 : 1);
