// Plays live streams in Debian's chromium (playwright-core), one page per stream, all at once:
// LL-HLS with hls.js in low-latency mode, classic HLS with hls.js, DASH with dash.js (both from
// tests/browser/node_modules, pinned in package.json). Watches each for <seconds> of wall time
// from the moment its video starts moving, sampling the player's own live latency once a second
// (hls.js `latency`, dash.js `getCurrentLiveLatency()`) and recording every stall.
// Usage: node play_lowlatency.mjs [--insecure-tls] <seconds> <screenshot prefix> <kind>=<url>...
//   kind: llhls (hls.js, lowLatencyMode), hls (hls.js, classic), dash (dash.js)
// Each page is served at the stream's own origin (the player page is answered by the browser
// itself, so the stream needs no CORS). Prints one JSON line per stream on stdout:
//   {kind, url, ok, watchFrom, watchTo (epoch ms), watched, advanced, latencies: [s...], medianLatency, stalls: [...],
//    fatal: [...], errors: [...], problems: [...], width, height, screenshot,
//    requests: [{path, protocol}, ...]}
// A stall is a `waiting` event of the video element after playback started, a hls.js
// BUFFER_STALLED_ERROR or a dash.js PLAYBACK_STALLED/PLAYBACK_WAITING event after it started.
// ok = watched <seconds> with the video moving, no fatal error, no page error, no stall. How far
// it moved is for the caller to hold against the source's own pace (an encoder on a busy machine
// may fall behind the wall clock). Exit status 0 when all ok.
import { createRequire } from 'node:module';
import { openPlayerPage, originRequests, withChromium } from './debian_chromium.mjs';

const args = process.argv.slice(2);
const insecureTls = args[0] === '--insecure-tls';
if (insecureTls) args.shift();
const [seconds, prefix, ...specs] = args;
const streams = specs.map((s) => {
  const at = s.indexOf('=');
  return { kind: s.slice(0, at), url: s.slice(at + 1) };
});
if (!(Number(seconds) > 0) || !prefix || streams.length === 0 ||
    streams.some((s) => !['llhls', 'hls', 'dash'].includes(s.kind))) {
  console.error('usage: node play_lowlatency.mjs [--insecure-tls] <seconds> <screenshot prefix> <llhls|hls|dash>=<url>...');
  process.exit(2);
}
const want = Number(seconds);
const require = createRequire(import.meta.url);
const scripts = { hls: require.resolve('hls.js/dist/hls.min.js'), dash: require.resolve('dashjs') };
const startDeadlineMs = 30000;


// Runs in the page: starts the player and keeps its facts in window.__p.
function startPlayer({ kind, src }) {
  const video = document.getElementById('v');
  const p = { started: false, stalls: [], fatal: [], errors: [], latency: () => null };
  const at = () => `${video.currentTime.toFixed(2)} (page ${(performance.now() / 1000).toFixed(2)} s)`;
  window.__p = p;
  video.addEventListener('waiting', () => { if (p.started) p.stalls.push(`video waiting at ${at()}`); });
  if (kind === 'dash') {
    const player = window.dashjs.MediaPlayer().create();
    // The stream's own edge as the fallback clock, never dash.js's default on another site.
    player.updateSettings({ streaming: { utcSynchronization: { defaultTimingSource: {
      scheme: 'urn:mpeg:dash:utc:http-iso:2014', value: new URL('/live/time', src).href } } } });
    const ev = window.dashjs.MediaPlayer.events;
    player.on(ev.ERROR, (e) => p.fatal.push(`dash: ${JSON.stringify(e.error || e).slice(0, 200)}`));
    for (const name of ['PLAYBACK_STALLED', 'PLAYBACK_WAITING']) {
      player.on(ev[name], () => { if (p.started) p.stalls.push(`dash ${name} at ${at()}`); });
    }
    // Low-latency mode and its target come from the MPD (availabilityTimeComplete="false",
    // ServiceDescription), as on the demo page: nothing here tunes dash.js for the test.
    player.initialize(video, src, true);
    p.latency = () => { const l = player.getCurrentLiveLatency(); return Number.isFinite(l) && l > 0 ? l : null; };
    return;
  }
  const hls = new window.Hls(kind === 'llhls' ? { lowLatencyMode: true } : { lowLatencyMode: false, liveSyncDurationCount: 2 });
  hls.on(window.Hls.Events.ERROR, (_, d) => {
    const e = `${d.type}/${d.details}`;
    if (d.fatal) p.fatal.push(e);
    else if (d.details === window.Hls.ErrorDetails.BUFFER_STALLED_ERROR) { if (p.started) p.stalls.push(`hls.js ${e} at ${at()}`); }
    else p.errors.push(e);
  });
  hls.loadSource(src);
  hls.attachMedia(video);
  video.play().catch(() => {});
  p.latency = () => (Number.isFinite(hls.latency) && hls.latency > 0 ? hls.latency : null);
}

async function play(context, { kind, url }, index) {
  const { page, problems } = await openPlayerPage(context, url);
  await page.addScriptTag({ path: kind === 'dash' ? scripts.dash : scripts.hls });
  await page.evaluate(startPlayer, { kind, src: url });
  const state = () => page.evaluate(() => {
    const v = document.getElementById('v');
    const p = window.__p;
    if (!p.started && v.currentTime > 0) p.started = true;
    return { t: v.currentTime, w: v.videoWidth, h: v.videoHeight, latency: p.latency(),
             stalls: p.stalls, fatal: p.fatal, errors: p.errors };
  });
  // Sampled once a second: a poll interval, not a stand-in for a condition.
  const latencies = [];
  let s = await state();
  const begin = Date.now();
  while (s.t === 0 && s.fatal.length === 0 && Date.now() - begin < startDeadlineMs) {
    await page.waitForTimeout(100);
    s = await state();
  }
  const first = s.t > 0 ? s.t : null;
  const watchFrom = Date.now();  // epoch ms: the caller can match it with the source's own pace
  while (first !== null && s.fatal.length === 0 && Date.now() - watchFrom < want * 1000) {
    await page.waitForTimeout(1000);
    s = await state();
    if (s.latency !== null) latencies.push(Number(s.latency.toFixed(3)));
  }
  const watchTo = Date.now();
  const watched = first === null ? 0 : (watchTo - watchFrom) / 1000;
  const requests = await originRequests(page, url);
  const screenshot = `${prefix}-${kind}-${index}.png`;
  await page.screenshot({ path: screenshot });
  await page.close();
  const advanced = first === null ? 0 : s.t - first;
  const sorted = [...latencies].sort((a, b) => a - b);
  const medianLatency = sorted.length ? sorted[Math.floor(sorted.length / 2)] : null;
  return {
    kind, url,
    ok: watched >= want && advanced > 0 && s.fatal.length === 0 && problems.length === 0 && s.stalls.length === 0,
    watchFrom, watchTo, watched: Number(watched.toFixed(2)), advanced: Number(advanced.toFixed(2)), latencies, medianLatency,
    stalls: s.stalls, fatal: s.fatal, errors: s.errors, problems, width: s.w, height: s.h, screenshot, requests,
  };
}

const allOk = await withChromium('play-lowlatency', { insecureTls }, async (context) => {
  const results = await Promise.all(streams.map((st, i) => play(context, st, i)));
  for (const r of results) console.log(JSON.stringify(r));
  return results.every((r) => r.ok);
});
process.exit(allOk ? 0 : 1);
