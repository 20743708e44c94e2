/**
 * The dashboard: one HTML page with its script inline, no build step and nothing fetched from
 * outside. It polls /api/cluster once a second and redraws: the ring of slots coloured by primary,
 * one card per node (health, phi, slots, ops/s, latency, hints, anti-entropy, rebalance,
 * collections) and the last minutes of ops/s and p99 latency per node.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ringkv cluster</title>
<style>
  :root { --bg:#0f1419; --panel:#182029; --text:#d8dee6; --dim:#8a96a3; --up:#3fb950; --suspect:#d29922; --down:#f85149; --left:#6e7681; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.4 system-ui, sans-serif; background:var(--bg); color:var(--text); }
  header { display:flex; gap:24px; align-items:baseline; padding:14px 20px; border-bottom:1px solid #26313d; }
  header h1 { font-size:18px; margin:0; }
  header .state { font-weight:600; }
  .ok { color:var(--up); } .fail { color:var(--down); }
  .dim { color:var(--dim); }
  main { display:grid; grid-template-columns: 340px 1fr; gap:20px; padding:20px; }
  .panel { background:var(--panel); border-radius:8px; padding:14px; }
  .panel h2 { font-size:14px; margin:0 0 10px; color:var(--dim); font-weight:600; text-transform:uppercase; letter-spacing:.04em; }
  #nodes { display:grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap:14px; }
  .node { background:var(--panel); border-radius:8px; padding:12px 14px; border-left:5px solid var(--left); }
  .node[data-health="up"] { border-left-color:var(--up); }
  .node[data-health="suspect"] { border-left-color:var(--suspect); }
  .node[data-health="down"] { border-left-color:var(--down); opacity:.8; }
  .node .title { display:flex; justify-content:space-between; align-items:baseline; gap:8px; }
  .node .id { font-family:ui-monospace, monospace; font-weight:600; }
  .badge { font-size:12px; font-weight:700; padding:1px 8px; border-radius:10px; color:#0f1419; background:var(--left); }
  .node[data-health="up"] .badge { background:var(--up); }
  .node[data-health="suspect"] .badge { background:var(--suspect); }
  .node[data-health="down"] .badge { background:var(--down); }
  .swatch { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:6px; }
  table.kv { width:100%; border-collapse:collapse; margin-top:8px; font-size:13px; }
  table.kv td { padding:2px 0; } table.kv td:last-child { text-align:right; font-variant-numeric:tabular-nums; }
  svg text { fill:var(--text); font:12px system-ui, sans-serif; }
  .spark { width:100%; height:46px; margin-top:6px; }
  .legend div { margin:3px 0; font-family:ui-monospace, monospace; font-size:12px; }
  #error { color:var(--down); }
</style>
</head>
<body>
<header>
  <h1>ringkv</h1>
  <span>cluster state <span id="state" class="state">…</span></span>
  <span class="dim">epoch <span id="epoch">-</span></span>
  <span class="dim">seen from <span id="from">-</span></span>
  <span class="dim">updated <span id="updated">-</span></span>
  <span id="error"></span>
</header>
<main>
  <section class="panel">
    <h2>Ring: slots by primary</h2>
    <svg id="ring" viewBox="-110 -110 220 220" width="300" height="300" role="img" aria-label="slot ring"></svg>
    <div id="legend" class="legend"></div>
  </section>
  <section>
    <div id="nodes"></div>
  </section>
</main>
<script>
'use strict';
const COLORS = ['#58a6ff', '#f778ba', '#3fb950', '#d29922', '#a371f7', '#39c5cf', '#ff7b72', '#e3b341', '#8b949e', '#56d364'];
const SLOTS = 16384;
const colorOf = new Map();
const fmt = (v, digits = 1) => (v === undefined || v === null || Number.isNaN(v) ? '-' : Number(v).toFixed(digits));
const bytes = (n) => (n >= 1048576 ? (n / 1048576).toFixed(1) + ' MiB' : n >= 1024 ? (n / 1024).toFixed(1) + ' KiB' : n + ' B');
const short = (id) => id.slice(0, 12);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

function arc(start, end, r1, r2) {
  const a0 = (start / SLOTS) * 2 * Math.PI - Math.PI / 2;
  const a1 = ((end + 1) / SLOTS) * 2 * Math.PI - Math.PI / 2;
  const large = a1 - a0 > Math.PI ? 1 : 0;
  const p = (r, a) => (r * Math.cos(a)).toFixed(2) + ' ' + (r * Math.sin(a)).toFixed(2);
  return 'M' + p(r2, a0) + ' A' + r2 + ' ' + r2 + ' 0 ' + large + ' 1 ' + p(r2, a1) + ' L' + p(r1, a1) + ' A' + r1 + ' ' + r1 + ' 0 ' + large + ' 0 ' + p(r1, a0) + 'Z';
}

function drawRing(report) {
  const health = new Map(report.nodes.map((n) => [n.member.id, n.health]));
  let svg = '';
  for (const r of report.ranges) {
    const down = health.get(r.node) === 'down';
    svg += '<path d="' + arc(r.start, r.end, 70, 100) + '" fill="' + (colorOf.get(r.node) || '#444') + '"' + (down ? ' fill-opacity="0.35"' : '') + '><title>slots ' + r.start + '-' + r.end + ' → ' + short(r.node) + '</title></path>';
  }
  const up = report.nodes.filter((n) => n.health === 'up').length;
  svg += '<text text-anchor="middle" y="-4" style="font-size:16px;font-weight:600">' + up + ' / ' + report.nodes.filter((n) => n.health !== 'left').length + '</text>';
  svg += '<text text-anchor="middle" y="14" class="dim">nodes up</text>';
  document.getElementById('ring').innerHTML = svg;
  document.getElementById('legend').innerHTML = report.nodes.map((n) =>
    '<div><span class="swatch" style="background:' + colorOf.get(n.member.id) + '"></span>' + short(n.member.id) + ' ' + esc(n.member.host + ':' + n.member.port) + ' · ' + n.member.slotsPrimary + ' slots</div>').join('');
}

function spark(history, pick, color) {
  const pts = history.map(pick).map((v) => (v === undefined || v === null ? 0 : v));
  if (pts.length < 2) return '<svg class="spark"></svg>';
  const max = Math.max(1e-9, ...pts);
  const w = 280, h = 40;
  const line = pts.map((v, i) => ((i / (pts.length - 1)) * w).toFixed(1) + ',' + (h - (v / max) * h).toFixed(1)).join(' ');
  return '<svg class="spark" viewBox="0 -2 ' + w + ' ' + (h + 4) + '" preserveAspectRatio="none"><polyline fill="none" stroke="' + color + '" stroke-width="1.5" points="' + line + '"/></svg>';
}

function card(n) {
  const m = n.member, r = n.report, c = r && r.cluster;
  const rows = [
    ['address', esc(m.host + ':' + m.port)],
    ['phi (suspicion)', m.state === 'self' ? 'this node' : fmt(m.phi, 2)],
    ['slots primary / replica', m.slotsPrimary + ' / ' + m.slotsReplica],
  ];
  if (r) {
    rows.push(['ops/s (1 min)', fmt(r.opsPerSec, 0)]);
    rows.push(['latency p50 / p95 / p99 ms', fmt(r.latency.p50Ms, 2) + ' / ' + fmt(r.latency.p95Ms, 2) + ' / ' + fmt(r.latency.p99Ms, 2)]);
    rows.push(['keys · clients', r.keys + ' · ' + r.clients]);
  }
  if (c) {
    rows.push(['hints pending', bytes(c.hints.pendingBytes) + ' for ' + c.hints.targets + ' node(s)']);
    rows.push(['anti-entropy', (c.antiEntropy.indexReady ? c.antiEntropy.slotsQueued + ' slots queued · ' + c.antiEntropy.fullPasses + ' passes' : 'building index')]);
    rows.push(['rebalance', c.rebalance.slotsMoving > 0 ? c.rebalance.slotsIn + ' in · ' + c.rebalance.slotsOut + ' out · ' + c.rebalance.slotsToSync + ' to sync' : 'none']);
    rows.push(['collections suspect / healed', c.collections.healsPending + ' / ' + c.collections.heals]);
  }
  if (!r && n.error) rows.push(['report', '<span class="fail">' + esc(n.error) + '</span>']);
  const hist = r ? r.history.slice(-60) : [];
  return '<div class="node" data-node-id="' + m.id + '" data-health="' + n.health + '">' +
    '<div class="title"><span><span class="swatch" style="background:' + colorOf.get(m.id) + '"></span><span class="id">' + short(m.id) + '</span></span>' +
    '<span class="badge">' + n.health + '</span></div>' +
    '<table class="kv">' + rows.map((x) => '<tr><td class="dim">' + x[0] + '</td><td>' + x[1] + '</td></tr>').join('') + '</table>' +
    (r ? '<div class="dim" style="font-size:12px;margin-top:6px">ops/s, last ' + Math.round(hist.length * 2) + ' s</div>' + spark(hist, (h) => h.opsPerSec, '#58a6ff') +
      '<div class="dim" style="font-size:12px">p99 latency</div>' + spark(hist, (h) => h.p99Ms, '#f778ba') : '') +
    '</div>';
}

function render(report) {
  report.nodes.forEach((n, i) => { if (!colorOf.has(n.member.id)) colorOf.set(n.member.id, COLORS[colorOf.size % COLORS.length]); });
  const state = document.getElementById('state');
  state.textContent = report.stateOk ? 'ok' : 'fail';
  state.className = 'state ' + (report.stateOk ? 'ok' : 'fail');
  document.getElementById('epoch').textContent = report.epoch;
  document.getElementById('from').textContent = short(report.from);
  document.getElementById('updated').textContent = new Date(report.atMs).toLocaleTimeString();
  drawRing(report);
  document.getElementById('nodes').innerHTML = report.nodes.map(card).join('');
}

async function poll() {
  try {
    const res = await fetch('api/cluster', { cache: 'no-store' });
    if (!res.ok) throw new Error('HTTP ' + res.status);
    render(await res.json());
    document.getElementById('error').textContent = '';
  } catch (err) {
    document.getElementById('error').textContent = 'this node does not answer: ' + err.message;
  }
  setTimeout(poll, 1000);
}
poll();
</script>
</body>
</html>
`;
