// Opens ./cdn demo's player page (scripts/demo_player.html) in Debian's chromium and waits until
// its three players (classic HLS, LL-HLS, DASH) have each played <seconds> and shown a live
// latency, or 45 s pass; then takes a screenshot of the whole page.
// Usage: node demo_page.mjs [--insecure-tls] <seconds> <page url> <screenshot.png>
// Prints one JSON line: {ok, summary (each player's latency), players: {classic|llhls|dash: {started, stalls, latency, errors,
// currentTime, played}}, problems: [...], screenshot}. ok = every player played <seconds> with a
// latency shown and no error, and the page had no error. Exit status 0 when ok.
import { withChromium } from './debian_chromium.mjs';

const args = process.argv.slice(2);
const insecureTls = args[0] === '--insecure-tls';
if (insecureTls) args.shift();
const [seconds, pageUrl, screenshot] = args;
if (!(Number(seconds) > 0) || !pageUrl || !screenshot) {
  console.error('usage: node demo_page.mjs [--insecure-tls] <seconds> <page url> <screenshot.png>');
  process.exit(2);
}
const want = Number(seconds);
const kinds = ['classic', 'llhls', 'dash'];

const result = await withChromium('demo-page', { insecureTls, viewport: { width: 1280, height: 560 } }, async (context) => {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
  // A player's own abort (ERR_ABORTED: a load it gave up, a switch) is not a failure of the page.
  page.on('requestfailed', (r) => r.failure()?.errorText !== 'net::ERR_ABORTED' && problems.push(`request failed: ${r.url().replace(/token=[^&]+/, 'token=…')} ${r.failure()?.errorText}`));
  await page.goto(pageUrl, { waitUntil: 'load' });
  const firstTime = {};
  const deadline = Date.now() + 45000;
  let players = {};
  const done = () => kinds.every((k) => players[k] && players[k].latency !== null &&
    firstTime[k] !== undefined && players[k].currentTime - firstTime[k] >= want);
  while (Date.now() < deadline) {
    players = await page.evaluate(() => JSON.parse(JSON.stringify(window.players || {})));
    for (const k of kinds) {
      if (firstTime[k] === undefined && players[k]?.started) firstTime[k] = players[k].currentTime;
    }
    if (done() || kinds.some((k) => players[k]?.errors.length)) break;
    await page.waitForTimeout(250);  // a poll interval, not a stand-in for a condition
  }
  await page.waitForTimeout(600);  // one more refresh of the page's own figures before the picture
  await page.screenshot({ path: screenshot, fullPage: true });
  for (const k of kinds) {
    if (players[k]) players[k].played = firstTime[k] === undefined ? 0 : Number((players[k].currentTime - firstTime[k]).toFixed(2));
  }
  const ok = done() && kinds.every((k) => players[k].errors.length === 0) && problems.length === 0;
  const summary = kinds.map((k) => `${k} ${players[k]?.latency?.toFixed(2) ?? '?'} s`).join(', ');
  return { ok, summary, players, problems, screenshot };
});
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
