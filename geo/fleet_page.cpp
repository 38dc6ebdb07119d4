#include "geo/fleet_page.h"

#include <string_view>

namespace cdn::geo {

namespace {

// 'self' only: the page loads /fleet.css and /fleet.js from the admin listener and fetches /state;
// nothing inline (so an edge or site name in /state can never become code) and no framing.
constexpr const char* kPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

constexpr std::string_view kHtml = R"page(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cdn-geo fleet</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/fleet.css">
<script src="/fleet.js" defer></script>
</head>
<body>
<header>
  <h1>cdn-geo fleet</h1>
  <p id="status" role="status" aria-live="polite">Loading /state&hellip;</p>
</header>
<main>
  <section aria-label="Fleet counts"><dl id="counts" class="counts"></dl></section>
  <div id="origins"></div>
  <div id="sites"></div>
  <noscript><p>This page needs JavaScript; the same data is at <a href="/state">/state</a>.</p></noscript>
</main>
<footer><p>Refreshes from <a href="/state">/state</a> every 2 s, plots from
<a href="/history">/history</a> (10 s buckets, last hour). Load bars: connections and egress against
the edge's configured capacity. Plots: <span class="key up">health</span>
<span class="key conn">connections</span> <span class="key egress">egress</span>
<span class="key hit">hit ratio</span>, each against its full scale (capacity, 100 %). Origins are
watched for their health and live channels, never steered to.</p></footer>
</body>
</html>
)page";

constexpr std::string_view kCss = R"page(:root {
  --fg: #1b1f24; --muted: #57606a; --bg: #ffffff; --panel: #f6f8fa; --line: #d0d7de;
  /* Okabe-Ito based: tell apart with colour blindness; every state also has a text label. */
  --up: #0b6e4f; --up-bg: #dcf3e8; --down: #a4161a; --down-bg: #fde2e1;
  --warn: #7a4a00; --warn-bg: #fff1cc; --unknown: #4a4f57; --unknown-bg: #eaeef2;
  --bar: #0072b2; --bar-high: #d55e00;
}
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color: var(--fg); background: var(--bg); }
header, main, footer { max-width: 1280px; margin: 0 auto; padding: 0 20px; }
header { display: flex; align-items: baseline; justify-content: space-between; gap: 16px;
  border-bottom: 1px solid var(--line); }
h1 { font-size: 22px; margin: 14px 0; }
#status { margin: 0; color: var(--muted); }
#status.stale { color: var(--down); font-weight: 600; }
.counts { display: flex; flex-wrap: wrap; gap: 10px; margin: 16px 0; padding: 0; }
.counts div { background: var(--panel); border: 1px solid var(--line); border-radius: 6px;
  padding: 8px 14px; min-width: 110px; }
.counts dt { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.counts dd { margin: 0; font-size: 24px; font-weight: 600; }
.counts .bad dd { color: var(--down); }
section.site { margin: 18px 0 26px; }
section.site h2 { font-size: 18px; margin: 0 0 6px; }
section.site h2 .where { font-weight: 400; color: var(--muted); font-size: 14px; margin-left: 8px; }
/* Fixed layout: every site's table has the same columns, so they line up down the page. */
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
th:nth-child(1) { width: 8%; } th:nth-child(2) { width: 8%; } th:nth-child(3) { width: 10%; }
th:nth-child(4) { width: 12%; } th:nth-child(5) { width: 11%; } th:nth-child(6) { width: 11%; }
th:nth-child(7) { width: 8%; } th:nth-child(8) { width: 7%; } th:nth-child(9) { width: 15%; }
th:nth-child(10) { width: 10%; }
section.origins th:nth-child(3) { width: 22%; } section.origins th:nth-child(4) { width: 15%; }
section.origins th:nth-child(5) { width: 22%; } section.origins th:nth-child(6) { width: 25%; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: middle; }
th { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em;
  background: var(--panel); }
td.name { font-weight: 600; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 10px; font-weight: 600;
  font-size: 13px; border: 1px solid currentColor; white-space: nowrap; }
.badge.up { color: var(--up); background: var(--up-bg); }
.badge.down { color: var(--down); background: var(--down-bg); }
.badge.unknown { color: var(--unknown); background: var(--unknown-bg); }
.badge.available { color: var(--up); background: var(--up-bg); }
.badge.unavailable { color: var(--warn); background: var(--warn-bg); }
tr.down td.name { color: var(--down); }
td.reason { max-width: 340px; }
td.reason .detail { display: block; color: var(--muted); font-size: 12px; overflow-wrap: anywhere; }
.load { font-variant-numeric: tabular-nums; font-size: 13px; }
.load .figure { display: block; margin-top: 3px; }
tr.down .load .figure { color: var(--muted); }
.bar { height: 10px; background: var(--panel); border: 1px solid var(--line); border-radius: 5px;
  overflow: hidden; }
.bar span { display: block; height: 100%; background: var(--bar); }
.bar.high span { background: var(--bar-high); }
td.changed { font-variant-numeric: tabular-nums; }
td.changed .ago { display: block; color: var(--muted); font-size: 12px; }
td.history .span { display: block; color: var(--muted); font-size: 11px; text-align: right; }
td.num { font-variant-numeric: tabular-nums; }
td.num .detail { display: block; color: var(--muted); font-size: 12px; }
.badge.draining { color: var(--warn); background: var(--warn-bg); margin-left: 4px; }
section.site .summary { color: var(--muted); font-size: 13px; margin: 0 0 6px; }
svg.plot { display: block; width: 100%; height: 46px; }
svg.plot .frame { fill: var(--panel); }
svg.plot .up { fill: var(--up); } svg.plot .down { fill: var(--down); }
svg.plot .partial { fill: var(--bar-high); }
svg.plot polyline { fill: none; stroke-width: 1.5; vector-effect: non-scaling-stroke; }
svg.plot .conn { stroke: var(--bar); } svg.plot .egress { stroke: var(--bar-high); }
svg.plot .hit { stroke: var(--up); stroke-dasharray: 3 2; }
.key::before { content: ""; display: inline-block; width: 14px; height: 3px; margin: 0 4px 3px 0;
  vertical-align: middle; }
.key.up::before { background: var(--up); height: 6px; } .key.conn::before { background: var(--bar); }
.key.egress::before { background: var(--bar-high); } .key.hit::before { background: var(--up); }
.empty { color: var(--muted); }
footer { color: var(--muted); font-size: 13px; border-top: 1px solid var(--line); margin-top: 10px; }
a { color: var(--bar); }
)page";

constexpr std::string_view kJs = R"page('use strict';
// Polls /state every 2 s and redraws. Built with DOM calls and textContent only: names from the
// config never become markup.
const POLL_MS = 2000;
// Bars turn orange from here, or when cdn-geo says the edge is over its load share on that
// measure (/state does not carry the configured share, which may be lower).
const HIGH_SHARE = 0.8;
// /history changes once per 10 s bucket: read it every third poll.
const HISTORY_EVERY = 3;
const HOUR_MS = 3600 * 1000;
const SVG = 'http://www.w3.org/2000/svg';
let lastGood = 0;
let history = null;
let pollCount = 0;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function rate(bps) {
  const units = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s'];
  let v = bps, i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return (v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1).replace(/\.0$/, '')) + ' ' + units[i];
}

function loadCell(used, capacity, fmt, what, stale, over) {
  const td = el('td');
  const box = el('div', 'load');
  const share = capacity > 0 ? used / capacity : 0;
  const bar = el('div', 'bar' + (over || share >= HIGH_SHARE ? ' high' : ''));
  bar.setAttribute('role', 'meter');
  bar.setAttribute('aria-label', what);
  bar.setAttribute('aria-valuemin', '0');
  bar.setAttribute('aria-valuemax', String(capacity));
  bar.setAttribute('aria-valuenow', String(used));
  const fill = el('span');
  fill.style.width = Math.min(100, Math.max(0, share * 100)).toFixed(1) + '%';
  bar.appendChild(fill);
  box.appendChild(bar);
  box.appendChild(el('span', 'figure', fmt(used) + ' / ' + fmt(capacity) +
                     ' (' + Math.round(share * 100) + '%)' + (stale ? ', last known' : '')));
  td.appendChild(box);
  return td;
}

// A short operator phrase for cdn-geo's reason, with the raw reason kept underneath.
function reasonText(e) {
  const r = e.reason || '';
  if (r === 'ok') return ['serving', ''];
  if (r === 'draining') return ['draining', ''];
  if (r === 'connections-over-share') return ['over load share', 'connections'];
  if (r === 'egress-over-share') return ['over load share', 'egress'];
  if (r.startsWith('down: ')) return ['down after failed polls', r.slice(6)];
  if (r.startsWith('poll-failed')) return ['poll failing', r];
  if (r.startsWith('recovering')) return ['recovering', r];
  if (r === 'not-polled-yet') return ['not polled yet', ''];
  return [r, ''];
}

function changedCell(ms) {
  const td = el('td', 'changed');
  if (!ms) { td.textContent = 'never'; return td; }
  const t = new Date(ms);
  td.appendChild(el('time', '', t.toLocaleTimeString([], { hour12: false }))).dateTime = t.toISOString();
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  const ago = s < 90 ? s + ' s ago' : s < 5400 ? Math.round(s / 60) + ' min ago'
                                               : Math.round(s / 3600) + ' h ago';
  const day = t.getFullYear() + '-' + String(t.getMonth() + 1).padStart(2, '0') + '-' +
              String(t.getDate()).padStart(2, '0');
  td.appendChild(el('span', 'ago', day + ', ' + ago));
  return td;
}

function pct(ratio) {
  return ratio === null || ratio === undefined ? '—' : (ratio * 100).toFixed(ratio >= 0.9995 ? 0 : 1) + ' %';
}

function perSecond(v) {
  return v === null || v === undefined ? '—' : (v >= 100 ? v.toFixed(0) : v.toFixed(1)) + '/s';
}

// Draining as the edge last said, while it still answers: a down edge is down, whatever it said.
function draining(e) {
  return e.draining && e.health === 'up';
}

function numCell(text, detail) {
  const td = el('td', 'num', text);
  if (detail) td.appendChild(el('span', 'detail', detail));
  return td;
}

function svgEl(tag, cls, attrs) {
  const e = document.createElementNS(SVG, tag);
  if (cls) e.setAttribute('class', cls);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  return e;
}

// The span a plot covers: the last hour, or less while the history is younger (at least a
// minute), so a fleet that just started shows its lines instead of a sliver at the right.
function plotSpan() {
  if (!history) return HOUR_MS;
  let first = history.now_ms;
  for (const rows of Object.values(history.edges)) if (rows.length) first = Math.min(first, rows[0][0]);
  return Math.min(HOUR_MS, Math.max(60 * 1000, history.now_ms - first));
}

function spanText(ms) {
  return ms >= HOUR_MS ? 'last hour' : 'last ' + Math.ceil(ms / 60000) + ' min';
}

// The last hour of one edge from /history: a health strip (green up, red down, orange both in one
// bucket) and three lines, each scaled to its full range (capacity, 100 %), over plotSpan().
function plot(e, rows, span) {
  const W = 360, H = 46, STRIP = 6, TOP = 2, LINES = H - STRIP - 4;
  const svg = svgEl('svg', 'plot', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none',
                                     role: 'img', 'aria-label': e.name + ': ' + spanText(span) });
  svg.appendChild(svgEl('rect', 'frame', { x: 0, y: 0, width: W, height: H }));
  svg.appendChild(svgEl('title')).textContent = e.name + ', ' + spanText(span) +
      ': health, connections, egress, hit ratio';
  if (!rows || !rows.length || !history) return svg;
  const end = history.now_ms, bucket = history.bucket_ms, start = end - span;
  const x = (t) => Math.max(0, Math.min(W, (t - start) / span * W));
  const strip = svgEl('g', 'health');
  for (const r of rows) {
    if (r[1] === null || r[0] + bucket <= start) continue;
    const cls = r[1] >= 1 ? 'up' : r[1] <= 0 ? 'down' : 'partial';
    strip.appendChild(svgEl('rect', cls, { x: x(r[0]).toFixed(1), y: H - STRIP,
      width: (Math.max(1, x(r[0] + bucket) - x(r[0])) + 0.6).toFixed(1), height: STRIP }));
  }
  svg.appendChild(strip);
  const line = (cls, col, scale) => {
    const pts = [];
    for (const r of rows) {
      if (r[col] === null || !(scale > 0) || r[0] + bucket <= start) continue;
      const v = Math.max(0, Math.min(1, r[col] / scale));
      const y = (TOP + (1 - v) * LINES).toFixed(1);
      pts.push(x(r[0]).toFixed(1) + ',' + y, x(Math.min(r[0] + bucket, end)).toFixed(1) + ',' + y);
    }
    const p = svgEl('polyline', cls, { points: pts.join(' ') });
    p.dataset.buckets = String(pts.length / 2);
    svg.appendChild(p);
  };
  line('conn', 2, e.capacity_connections);
  line('egress', 3, e.capacity_egress_bps);
  line('hit', 4, 1);
  return svg;
}

// A row of an edge (kind 'edge') or origin: its name, health badge (with draining) and the
// data-* attributes the row is found by.
function nodeRow(kind, n) {
  const health = ['up', 'down'].includes(n.health) ? n.health : 'unknown';
  const tr = el('tr', health);
  tr.dataset[kind] = n.name;
  tr.dataset.health = health;
  tr.appendChild(el('td', 'name', n.name));
  const h = el('td');
  h.appendChild(el('span', 'badge state ' + health, health));
  if (draining(n)) h.appendChild(el('span', 'badge draining', 'draining'));
  tr.appendChild(h);
  return tr;
}

function reasonCell(n) {
  const [label, detail] = reasonText(n);
  const r = el('td', 'reason', label);
  if (detail) r.appendChild(el('span', 'detail', detail));
  return r;
}

function edgeRow(e) {
  const tr = nodeRow('edge', e);
  const health = tr.dataset.health;
  const a = el('td');
  a.appendChild(el('span', 'badge steering ' + (e.available ? 'available' : 'unavailable'),
                   e.available ? 'available' : 'unavailable'));
  tr.appendChild(a);
  tr.appendChild(reasonCell(e));
  const stale = health === 'down'; // a down edge's load is what it said before it stopped answering
  tr.appendChild(loadCell(e.connections, e.capacity_connections, String, 'connections', stale,
                          e.reason === 'connections-over-share'));
  tr.appendChild(loadCell(e.egress_bps, e.capacity_egress_bps, rate, 'egress', stale,
                          e.reason === 'egress-over-share'));
  tr.appendChild(numCell(pct(e.hit_ratio), e.requests_per_s === null ? '' :
                         perSecond(e.requests_per_s) + (e.errors_5xx_per_s > 0 ?
                             ', 5xx ' + perSecond(e.errors_5xx_per_s) : '')));
  tr.lastChild.classList.add('hit-ratio');
  tr.appendChild(numCell(e.stream_sessions === null ? '—' : String(e.stream_sessions)));
  tr.lastChild.classList.add('sessions');
  const p = el('td', 'history');
  const span = plotSpan();
  p.appendChild(plot(e, history && history.edges[e.name], span));
  p.appendChild(el('span', 'span', spanText(span)));
  tr.appendChild(p);
  tr.appendChild(changedCell(e.last_change_ms));
  return tr;
}

// An origin: watched (health, live channels, requests), never steered to.
function originRow(o) {
  const tr = nodeRow('origin', o);
  tr.appendChild(reasonCell(o));
  // A down origin's channel count is what it said before it stopped answering.
  const stale = tr.dataset.health === 'down' && o.live_channels !== null;
  tr.appendChild(numCell(o.live_channels === null ? '—' : String(o.live_channels), stale ? 'last known' : ''));
  tr.lastChild.classList.add('live-channels');
  tr.appendChild(numCell(perSecond(o.requests_per_s), o.errors_5xx_per_s > 0 ?
                         '5xx ' + perSecond(o.errors_5xx_per_s) : ''));
  tr.lastChild.classList.add('requests');
  tr.appendChild(changedCell(o.last_change_ms));
  return tr;
}

function table(columns, rows) {
  const t = el('table');
  const head = el('tr');
  for (const c of columns) head.appendChild(el('th', '', c)).scope = 'col';
  t.appendChild(el('thead')).appendChild(head);
  t.appendChild(el('tbody')).replaceChildren(...rows);
  return t;
}

// Above the sites, when cdn-geo watches origins (geo.origins); nothing otherwise.
function originsSection(origins) {
  if (!origins.length) return [];
  const sec = el('section', 'site origins');
  sec.setAttribute('aria-label', 'Origins');
  const h = el('h2', '', 'Origins');
  h.appendChild(el('span', 'where', origins.length + (origins.length === 1 ? ' origin' : ' origins') +
                   ' · watched, not steered to'));
  sec.appendChild(h);
  const up = origins.filter((o) => o.health === 'up');
  const channels = up.reduce((a, o) => a + (o.live_channels || 0), 0);
  sec.appendChild(el('p', 'summary', up.length + ' of ' + origins.length + ' up · ' + channels +
                     (channels === 1 ? ' live channel' : ' live channels') + ' on the origins that are up'));
  sec.appendChild(table(['Origin', 'Health', 'Reason', 'Live channels', 'Requests', 'Last change'],
                        origins.map(originRow)));
  return [sec];
}

// The site at a glance: what its edges carry together against what they can.
function siteSummary(edges) {
  const sum = (f) => edges.reduce((a, e) => a + (f(e) || 0), 0);
  const up = edges.filter((e) => e.health === 'up');
  const rated = up.filter((e) => e.hit_ratio !== null && e.requests_per_s > 0);
  const weight = rated.reduce((a, e) => a + e.requests_per_s, 0);
  const hit = weight > 0 ? rated.reduce((a, e) => a + e.hit_ratio * e.requests_per_s, 0) / weight : null;
  const sessions = edges.some((e) => e.stream_sessions !== null) ? sum((e) => e.stream_sessions) : null;
  return up.length + ' of ' + edges.length + ' up · ' +
         sum((e) => e.connections) + ' / ' + sum((e) => e.capacity_connections) + ' connections · ' +
         rate(sum((e) => e.egress_bps)) + ' / ' + rate(sum((e) => e.capacity_egress_bps)) + ' egress · hit ratio ' +
         pct(hit) + (sessions === null ? '' : ' · ' + sessions + (sessions === 1 ? ' session' : ' sessions'));
}

function siteSection(s) {
  const sec = el('section', 'site');
  sec.dataset.site = s.name;
  const h = el('h2', '', s.name);
  const ns = s.lat >= 0 ? 'N' : 'S', ew = s.lon >= 0 ? 'E' : 'W';
  h.appendChild(el('span', 'where', Math.abs(s.lat).toFixed(2) + '° ' + ns + ', ' +
                   Math.abs(s.lon).toFixed(2) + '° ' + ew + ' · ' + s.edges.length +
                   (s.edges.length === 1 ? ' edge' : ' edges')));
  sec.appendChild(h);
  if (s.edges.length) sec.appendChild(el('p', 'summary', siteSummary(s.edges)));
  if (!s.edges.length) { sec.appendChild(el('p', 'empty', 'No edges configured.')); return sec; }
  sec.appendChild(table(['Edge', 'Health', 'Steering', 'Reason', 'Connections', 'Egress', 'Hit ratio',
                         'Sessions', 'Last hour', 'Last change'], s.edges.map(edgeRow)));
  return sec;
}

function renderCounts(sites, origins) {
  const edges = sites.flatMap(s => s.edges);
  const n = f => edges.filter(f).length;
  const servingSites = sites.filter(s => s.edges.some(e => e.available)).length;
  const items = [
    ['Sites serving', servingSites + ' / ' + sites.length, servingSites < sites.length],
    ['Edges', edges.length, false],
    ['Up', n(e => e.health === 'up'), false],
    ['Down', n(e => e.health === 'down'), n(e => e.health === 'down') > 0],
    ['Draining', n(draining), n(draining) > 0],
    ['Available', n(e => e.available), false],
    ['Not available', n(e => !e.available), n(e => !e.available) > 0],
  ];
  const originsUp = origins.filter(o => o.health === 'up').length;
  if (origins.length) items.push(['Origins up', originsUp + ' / ' + origins.length, originsUp < origins.length]);
  const dl = document.getElementById('counts');
  dl.replaceChildren(...items.map(([k, v, bad]) => {
    const d = el('div', bad ? 'bad' : '');
    d.dataset.count = k;
    d.appendChild(el('dt', '', k));
    d.appendChild(el('dd', '', String(v)));
    return d;
  }));
}

function render(state) {
  const origins = state.origins || [];
  renderCounts(state.sites, origins);
  document.getElementById('origins').replaceChildren(...originsSection(origins));
  document.getElementById('sites').replaceChildren(...state.sites.map(siteSection));
}

function showStatus(text, stale) {
  const s = document.getElementById('status');
  s.textContent = text;
  s.classList.toggle('stale', stale);
}

async function poll() {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), POLL_MS);
  try {
    if (pollCount++ % HISTORY_EVERY === 0) {
      const h = await fetch('/history', { cache: 'no-store', signal: abort.signal });
      if (!h.ok) throw new Error('/history: HTTP ' + h.status);
      history = await h.json();
    }
    const r = await fetch('/state', { cache: 'no-store', signal: abort.signal });
    if (!r.ok) throw new Error('HTTP ' + r.status);
    render(await r.json());
    lastGood = Date.now();
    showStatus('Updated ' + new Date(lastGood).toLocaleTimeString([], { hour12: false }), false);
    document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
  } catch (err) {
    const since = lastGood ? ' — showing data from ' +
        new Date(lastGood).toLocaleTimeString([], { hour12: false }) : '';
    showStatus('Cannot read /state (' + err.message + ')' + since, true);
  } finally {
    clearTimeout(timer);
    setTimeout(poll, POLL_MS);
  }
}

poll();
)page";

// Named by the page, so the browser does not ask for a /favicon.ico that is not there.
constexpr std::string_view kIcon =
    R"page(<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#0072b2"/><path d="M1 8h14M8 1c-3 4-3 10 0 14M8 1c3 4 3 10 0 14" stroke="#fff" fill="none"/></svg>)page";

void serve(const std::shared_ptr<http::Exchange>& ex, const char* type, std::string_view body) {
  ex->respond(200,
              {{"Content-Type", type},
               {"Content-Security-Policy", kPolicy},
               {"X-Content-Type-Options", "nosniff"},
               {"Referrer-Policy", "no-referrer"},
               {"Cache-Control", "no-cache"}},
              body);
}

}  // namespace

void add_fleet_page_routes(runtime::AdminApi& admin) {
  admin.add_public_read("/", [](const std::shared_ptr<http::Exchange>& ex) {
    serve(ex, "text/html; charset=utf-8", kHtml);
  });
  admin.add_public_read("/fleet.css", [](const std::shared_ptr<http::Exchange>& ex) {
    serve(ex, "text/css; charset=utf-8", kCss);
  });
  admin.add_public_read("/favicon.svg", [](const std::shared_ptr<http::Exchange>& ex) {
    serve(ex, "image/svg+xml", kIcon);
  });
  admin.add_public_read("/fleet.js", [](const std::shared_ptr<http::Exchange>& ex) {
    serve(ex, "text/javascript; charset=utf-8", kJs);
  });
}

}  // namespace cdn::geo
