/**
 * The dashboard page, its script and its styles, as strings (no build step, found at runtime
 * from dist as well as from src). Text reaches the DOM only through textContent; the page
 * holds no secret: the admin token is typed in and kept in sessionStorage of the tab.
 *
 * Keep these free of backticks, "${" and backslashes (they are template literals).
 */

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Resilient Checkout · live dashboard</title>
<link rel="stylesheet" href="/dashboard/assets/dashboard.css">
<script src="/dashboard/assets/dashboard.js" defer></script>
</head>
<body>
<header class="top">
  <div class="title">
    <h1>Resilient Checkout</h1>
    <p id="connection" class="conn conn-connecting" role="status" aria-live="polite">Connecting to checkout…</p>
  </div>
  <form id="token-form" class="token" autocomplete="off">
    <label for="token-input">Admin token</label>
    <input id="token-input" name="token" type="password" autocomplete="off" spellcheck="false" placeholder="needed to change faults">
    <button type="submit" id="token-save">Use token</button>
    <button type="button" id="token-forget" hidden>Forget</button>
    <span id="token-status" role="status" aria-live="polite">No token: read-only</span>
  </form>
</header>
<main>
  <section aria-labelledby="circuits-title">
    <h2 id="circuits-title">Dependency circuits</h2>
    <div id="circuits" class="grid"><p class="muted">Waiting for the first snapshot…</p></div>
  </section>
  <div class="row">
    <section aria-labelledby="pipeline-title" class="panel">
      <h2 id="pipeline-title">Payment-retry pipeline</h2>
      <div id="pipeline"><p class="muted">Loading…</p></div>
      <button type="button" id="replay">Replay parked messages</button>
      <p id="replay-status" class="result" role="status" aria-live="polite"></p>
    </section>
    <section aria-labelledby="answers-title" class="panel">
      <h2 id="answers-title">Checkout's answers <small>last minute</small></h2>
      <div id="answers"><p class="muted">Loading…</p></div>
    </section>
  </div>
  <section aria-labelledby="faults-title">
    <h2 id="faults-title">Fault injection</h2>
    <p class="muted" id="faults-note">Changes go through checkout to each stub's <code>/admin/faults</code> with your admin token.</p>
    <div id="faults" class="grid"></div>
  </section>
</main>
</body>
</html>
`;

export const DASHBOARD_CSS = `:root {
  --bg: #f4f5f7; --fg: #1b1f24; --muted: #59626d; --card: #ffffff; --line: #d5d9df;
  --ok: #1a7f37; --ok-bg: #dafbe1; --bad: #b42318; --bad-bg: #ffe4e0; --warn: #8a5a00; --warn-bg: #fff1c2;
  --forced: #6e2594; --forced-bg: #f1e0fb; --off: #4b5563; --off-bg: #e5e7eb;
  --rej: #9aa3ad; --lat: #1f4fbf;
}
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
h1 { font-size: 1.3rem; margin: 0; }
h2 { font-size: 1.05rem; margin: 1.2rem 0 .6rem; }
h3 { font-size: 1rem; margin: 0; }
small, .muted { color: var(--muted); font-weight: normal; }
code { font-size: .9em; }
.top { display: flex; flex-wrap: wrap; gap: .6rem 1.5rem; align-items: center; justify-content: space-between; padding: .8rem 1rem; background: #fff; border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 2; }
.title { display: flex; flex-wrap: wrap; align-items: center; gap: .4rem 1rem; }
main { padding: 0 1rem 2rem; max-width: 1400px; margin: 0 auto; }
.conn { margin: 0; padding: .15rem .6rem; border-radius: 1rem; font-size: .85rem; font-weight: 600; }
.conn-live { background: var(--ok-bg); color: var(--ok); }
.conn-connecting, .conn-down { background: var(--bad-bg); color: var(--bad); }
.token { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; font-size: .9rem; }
.token input { width: 13rem; max-width: 100%; }
input, select, button { font: inherit; padding: .25rem .45rem; border: 1px solid var(--line); border-radius: .35rem; background: #fff; color: var(--fg); }
button { cursor: pointer; background: #eef1f5; }
button:hover { background: #e1e6ec; }
button.primary { background: #1f4fbf; color: #fff; border-color: #1f4fbf; }
button:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid #6b9bff; outline-offset: 1px; }
.grid { display: grid; gap: .8rem; grid-template-columns: repeat(auto-fill, minmax(290px, 1fr)); }
.row { display: grid; gap: .8rem; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); }
.card, .panel { background: var(--card); border: 1px solid var(--line); border-radius: .6rem; padding: .8rem; min-width: 0; }
.panel h2 { margin-top: 0; }
.row .panel { margin-top: 1.2rem; }
.card > header { display: flex; justify-content: space-between; align-items: center; gap: .5rem; margin-bottom: .5rem; }
.card { border-left-width: 6px; }
.badge { font-weight: 700; font-size: .85rem; padding: .1rem .55rem; border-radius: 1rem; white-space: nowrap; letter-spacing: .02em; }
.state-CLOSED { border-left-color: var(--ok); } .state-CLOSED .badge { background: var(--ok-bg); color: var(--ok); }
.state-OPEN { border-left-color: var(--bad); border-left-style: double; } .state-OPEN .badge { background: var(--bad); color: #fff; }
.state-HALF_OPEN { border-left-color: #d29b00; border-left-style: dashed; } .state-HALF_OPEN .badge { background: var(--warn-bg); color: var(--warn); }
.state-FORCED_OPEN { border-left-color: var(--forced); border-left-style: double; } .state-FORCED_OPEN .badge { background: var(--forced); color: #fff; }
.state-DISABLED { border-left-color: var(--off); border-left-style: dotted; } .state-DISABLED .badge { background: var(--off-bg); color: var(--off); }
.meter { margin: .3rem 0; font-size: .85rem; }
.meter .label { display: flex; justify-content: space-between; gap: .5rem; }
.bar { position: relative; height: .5rem; background: #edf0f3; border-radius: .25rem; overflow: visible; margin-top: .15rem; }
.bar .fill { position: absolute; left: 0; top: 0; bottom: 0; border-radius: .25rem; background: var(--ok); }
.bar.over .fill { background: var(--bad); }
.bar .mark { position: absolute; top: -.2rem; bottom: -.2rem; width: 2px; background: var(--fg); }
dl.stats { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: .3rem .6rem; margin: .5rem 0; }
dl.stats div { min-width: 0; }
dl.stats dt { font-size: .75rem; color: var(--muted); }
dl.stats dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
.until { margin: .3rem 0; font-weight: 600; color: var(--bad); font-size: .9rem; }
.last { margin: .3rem 0 0; font-size: .8rem; color: var(--muted); }
svg.spark { display: block; width: 100%; height: 64px; background: #fafbfc; border: 1px solid #edf0f3; border-radius: .3rem; }
.legend { display: flex; flex-wrap: wrap; gap: .2rem .8rem; font-size: .75rem; color: var(--muted); margin-top: .2rem; }
.legend i { display: inline-block; width: .7rem; height: .7rem; margin-right: .25rem; vertical-align: -1px; border-radius: 2px; }
.sw-ok { background: var(--ok); } .sw-bad { background: var(--bad); } .sw-rej { background: var(--rej); } .sw-lat { background: var(--lat); height: 2px !important; vertical-align: 3px !important; } .sw-chg { background: #000; width: 2px !important; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: .25rem .4rem; border-bottom: 1px solid #edf0f3; }
th { white-space: nowrap; }
td.num, th.num { text-align: right; }
.kv { display: grid; grid-template-columns: auto 1fr; gap: .25rem .8rem; margin: 0 0 .6rem; }
.kv dt { color: var(--muted); } .kv dd { margin: 0; font-weight: 600; }
.worker-consuming { color: var(--ok); } .worker-no-consumer { color: var(--warn); }
.fault form { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: .4rem .6rem; margin-top: .5rem; }
.fault label { display: flex; flex-direction: column; font-size: .8rem; color: var(--muted); min-width: 0; }
.fault label.check { flex-direction: row; align-items: center; gap: .35rem; color: var(--fg); font-size: .9rem; }
.fault input[type=number], .fault select { width: 100%; }
.fault .checks { grid-column: 1 / -1; display: flex; flex-wrap: wrap; gap: .3rem 1rem; }
.fault .actions { grid-column: 1 / -1; display: flex; gap: .5rem; }
.fault .current { font-size: .85rem; margin: .2rem 0; }
.fault .current.active { color: var(--bad); font-weight: 600; }
.result { font-size: .85rem; margin: .4rem 0 0; min-height: 1.2em; }
.result.error { color: var(--bad); } .result.ok { color: var(--ok); }
@media (max-width: 520px) {
  body { font-size: 14px; }
  .top { position: static; }
  .grid, .row { grid-template-columns: 1fr; }
  .token input { width: 100%; }
}
`;

export const DASHBOARD_JS = `(function () {
  'use strict';
  var TOKEN_KEY = 'resilient-checkout-admin-token';
  var SVG_NS = 'http://www.w3.org/2000/svg';
  var STATE_ICON = { CLOSED: '✔', OPEN: '✖', HALF_OPEN: '◐', FORCED_OPEN: '■', DISABLED: '○' };
  var STATE_WORD = { CLOSED: 'CLOSED', OPEN: 'OPEN', HALF_OPEN: 'HALF-OPEN', FORCED_OPEN: 'FORCED OPEN', DISABLED: 'DISABLED' };
  var STATE_COLOUR = { CLOSED: '#1a7f37', OPEN: '#b42318', HALF_OPEN: '#d29b00', FORCED_OPEN: '#6e2594', DISABLED: '#4b5563' };

  var token = null;
  try { token = sessionStorage.getItem(TOKEN_KEY); } catch (e) { token = null; }
  var circuits = {};      // name -> { snapshot, receivedAt, rate, rejectRate }
  var previous = {};      // name -> { total, rejected, at }
  var history = {};       // name -> history view from /dashboard/api/overview
  var stubs = [];
  var faultCards = {};    // stub -> { current, result, form }
  var source = null;
  var lastMessageAt = 0;
  var reconnectTimer = null;
  var everConnected = false;

  function $(id) { return document.getElementById(id); }

  /** Builds an element; text only ever goes in through textContent. */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === undefined || value === null || value === false) return;
        if (key === 'text') node.textContent = String(value);
        else if (key === 'className') node.className = value;
        else if (key === 'style') node.style.cssText = value; // CSSOM: allowed by the page's CSP
        else node.setAttribute(key, value === true ? '' : String(value));
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return node;
  }
  function svg(tag, attrs) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, String(attrs[key])); });
    return node;
  }
  function pct(x) { return (x * 100).toFixed(x > 0 && x < 0.1 ? 1 : 0) + '%'; }
  function num(x, digits) { return x === null || x === undefined ? '–' : Number(x).toFixed(digits || 0); }
  function ms(x) { return x === null || x === undefined ? '–' : (x >= 1000 ? (x / 1000).toFixed(2) + ' s' : Math.round(x) + ' ms'); }
  function ago(at) {
    var s = Math.max(0, Math.round((Date.now() - at) / 1000));
    return s < 60 ? s + ' s ago' : Math.floor(s / 60) + ' min ' + (s % 60) + ' s ago';
  }

  // ---- connection ------------------------------------------------------------------
  function setConnection(kind, text) {
    var node = $('connection');
    node.className = 'conn conn-' + kind;
    node.textContent = text;
    document.body.setAttribute('data-connection', kind);
  }

  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (source) source.close();
    source = new EventSource('/circuits/stream');
    source.onmessage = function (event) {
      lastMessageAt = Date.now();
      if (!everConnected || document.body.getAttribute('data-connection') !== 'live') {
        everConnected = true;
        setConnection('live', '● Live: updates every second');
      }
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      onCircuits(data.circuits || {});
    };
    source.onerror = function () {
      setConnection('down', everConnected ? '⚠ Disconnected from checkout: reconnecting…' : '⚠ Cannot reach checkout: retrying…');
      if (source && source.readyState === 2) scheduleReconnect();
    };
  }
  function scheduleReconnect() {
    if (reconnectTimer) return;
    reconnectTimer = setTimeout(connect, 2000);
  }
  // The stream sends every second: silence means a dead connection the browser has not noticed.
  setInterval(function () {
    if (lastMessageAt > 0 && Date.now() - lastMessageAt > 4000) {
      lastMessageAt = 0;
      setConnection('down', '⚠ Disconnected from checkout: reconnecting…');
      scheduleReconnect();
    }
  }, 1000);

  // ---- circuits ----------------------------------------------------------------------
  function onCircuits(map) {
    var now = Date.now();
    Object.keys(map).forEach(function (name) {
      var s = map[name];
      var total = s.successes + s.failed + s.timeouts + s.ignored;
      var prev = previous[name];
      var entry = circuits[name] || {};
      if (prev && now > prev.at) {
        var dt = (now - prev.at) / 1000;
        entry.rate = Math.max(0, (total - prev.total) / dt);
        entry.rejectRate = Math.max(0, (s.rejected - prev.rejected) / dt);
      }
      previous[name] = { total: total, rejected: s.rejected, at: now };
      entry.snapshot = s;
      entry.receivedAt = now;
      circuits[name] = entry;
    });
    renderCircuits();
  }

  function meter(label, value, threshold) {
    var over = threshold < 1 && value >= threshold;
    var bar = el('div', { className: 'bar' + (over ? ' over' : ''), role: 'presentation' }, [
      el('div', { className: 'fill', style: 'width:' + Math.min(100, value * 100).toFixed(1) + '%' }),
      threshold <= 1 ? el('div', { className: 'mark', style: 'left:' + Math.min(100, threshold * 100).toFixed(1) + '%', title: 'threshold' }) : null,
    ]);
    return el('div', { className: 'meter' }, [
      el('div', { className: 'label' }, [
        el('span', { text: label }),
        el('span', { text: pct(value) + ' / ' + (threshold >= 1 ? 'never trips' : pct(threshold)) + (over ? ' ▲ over' : '') }),
      ]),
      bar,
    ]);
  }

  function stat(label, value) {
    return el('div', null, [el('dt', { text: label }), el('dd', { text: value })]);
  }

  function sparkline(name, state) {
    var view = history[name];
    var width = 300, height = 60, seconds = 20;
    var end = Math.floor(Date.now() / 1000) * 1000;
    // From the first second recorded (at least 20 s, at most the history kept, 3 min): a
    // checkout that started a few seconds ago fills the chart instead of its last sliver.
    var first = view ? Math.min(view.buckets.length > 0 ? view.buckets[0].t : end, view.transitions.length > 0 ? view.transitions[0].at : end) : end;
    if (view) seconds = Math.min(view.seconds, Math.max(20, Math.ceil((end - first) / 1000) + 1));
    var start = end - (seconds - 1) * 1000;
    var barW = width / seconds;
    var box = svg('svg', { class: 'spark', viewBox: '0 0 ' + width + ' ' + height, preserveAspectRatio: 'none', role: 'img' });
    var title = svg('title', {});
    title.textContent = name + ': calls per second by outcome and average latency, last ' + seconds + ' s';
    box.appendChild(title);
    if (!view) return box;
    var maxCalls = 1, maxLat = 1;
    view.buckets.forEach(function (b) {
      maxCalls = Math.max(maxCalls, b.success + b.failure + b.timeout + b.rejected);
      if (b.timed > 0) maxLat = Math.max(maxLat, b.latencySumMs / b.timed);
    });
    var points = [];
    view.buckets.forEach(function (b) {
      if (b.t < start) return;
      var x = ((b.t - start) / 1000) * barW;
      var y = height;
      [['success', '#1a7f37'], ['failure', '#b42318'], ['timeout', '#b42318'], ['rejected', '#9aa3ad']].forEach(function (part) {
        var n = b[part[0]];
        if (!n) return;
        var h = (n / maxCalls) * (height - 6);
        y -= h;
        box.appendChild(svg('rect', { x: x.toFixed(2), y: y.toFixed(2), width: Math.max(0.8, barW - 0.3).toFixed(2), height: h.toFixed(2), fill: part[1] }));
      });
      if (b.timed > 0) points.push((x + barW / 2).toFixed(1) + ',' + (height - 2 - ((b.latencySumMs / b.timed) / maxLat) * (height - 8)).toFixed(1));
    });
    if (points.length > 1) box.appendChild(svg('polyline', { points: points.join(' '), fill: 'none', stroke: '#1f4fbf', 'stroke-width': 1.5, 'vector-effect': 'non-scaling-stroke' }));
    view.transitions.forEach(function (t) {
      if (t.at < start) return;
      var x = ((t.at - start) / 1000) * barW;
      var line = svg('line', { x1: x.toFixed(1), x2: x.toFixed(1), y1: 0, y2: height, stroke: STATE_COLOUR[t.to] || '#000', 'stroke-width': 2, 'stroke-dasharray': '3 2', 'vector-effect': 'non-scaling-stroke' });
      var tip = svg('title', {});
      tip.textContent = t.from + ' → ' + t.to + ' (' + t.reason + ') at ' + new Date(t.at).toLocaleTimeString();
      line.appendChild(tip);
      box.appendChild(line);
    });
    var peak = svg('text', { x: 3, y: 11, 'font-size': 10, fill: '#3d4650', stroke: '#fafbfc', 'stroke-width': 3, 'paint-order': 'stroke' });
    peak.textContent = 'last ' + (seconds >= 120 ? Math.round(seconds / 60) + ' min' : seconds + ' s') + ' · max ' + maxCalls + '/s · ' + Math.round(maxLat) + ' ms';
    box.appendChild(peak);
    return box;
  }

  function untilText(entry) {
    var s = entry.snapshot;
    if (s.state !== 'OPEN' || s.retryAfterMs === null) return null;
    var left = Math.max(0, s.retryAfterMs - (Date.now() - entry.receivedAt));
    return 'Half-open in ' + (left / 1000).toFixed(1) + ' s';
  }

  function renderCircuits() {
    var container = $('circuits');
    var names = Object.keys(circuits).sort();
    if (names.length === 0) return;
    var cards = names.map(function (name) {
      var entry = circuits[name];
      var s = entry.snapshot;
      var cfg = s.config || {};
      var until = untilText(entry);
      var lt = s.lastTransition;
      var views = history[name] ? history[name].transitions.length : 0;
      return el('article', { className: 'card state-' + s.state, 'data-circuit': name, 'data-state': s.state, 'aria-label': name + ' circuit ' + STATE_WORD[s.state] }, [
        el('header', null, [
          el('h3', { text: name }),
          el('span', { className: 'badge', 'data-role': 'state', text: (STATE_ICON[s.state] || '?') + ' ' + (STATE_WORD[s.state] || s.state) }),
        ]),
        meter('Failure rate', s.failureRate, cfg.failureRateThreshold),
        meter('Slow calls (≥ ' + ms(cfg.slowCallDurationMs) + ')', s.slowCallRate, cfg.slowCallRateThreshold),
        el('dl', { className: 'stats' }, [
          stat('Calls/s', num(entry.rate, 1)),
          stat('Rejected', s.rejected + (entry.rejectRate ? ' (' + num(entry.rejectRate, 1) + '/s)' : '')),
          stat('Fallbacks', String(s.fallbacks)),
          stat('In window', s.calls + (s.calls < cfg.minimumCalls ? ' (<' + cfg.minimumCalls + ')' : '')),
          stat('Timeouts', String(s.timeouts)),
          stat('In flight', String(s.inFlight)),
        ]),
        s.state === 'CLOSED' ? null : el('p', { className: 'last', 'data-role': 'window-note', text: 'The rates restart at each state change; the chart shows what led here.' }),
        until ? el('p', { className: 'until', 'data-role': 'until', text: until }) : null,
        sparkline(name, s.state),
        el('div', { className: 'legend', 'aria-hidden': 'true' }, [
          el('span', null, [el('i', { className: 'sw-ok' }), 'ok']),
          el('span', null, [el('i', { className: 'sw-bad' }), 'failed']),
          el('span', null, [el('i', { className: 'sw-rej' }), 'rejected']),
          el('span', null, [el('i', { className: 'sw-lat' }), 'latency']),
          el('span', null, [el('i', { className: 'sw-chg' }), 'state change']),
        ]),
        el('p', { className: 'last', text: lt ? 'Last change: ' + lt.from + ' → ' + lt.to + ' (' + lt.reason + '), ' + ago(lt.at) + (views ? '; marked in the chart' : '') : 'No state change yet' }),
      ]);
    });
    container.replaceChildren.apply(container, cards);
  }
  setInterval(function () {
    document.querySelectorAll('[data-role=until]').forEach(function (node) {
      var card = node.closest('[data-circuit]');
      var entry = card && circuits[card.getAttribute('data-circuit')];
      var text = entry && untilText(entry);
      if (text) node.textContent = text;
    });
  }, 200);

  // ---- overview: history, pipeline, answers ------------------------------------------
  function loadOverview() {
    return fetch('/dashboard/api/overview', { headers: { Accept: 'application/json' }, cache: 'no-store' })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (data) {
        if (!data) return;
        history = data.history || {};
        renderPipeline(data.pipeline, data.replay);
        renderAnswers(data.answers);
        if (stubs.join() !== (data.stubs || []).join()) {
          stubs = data.stubs || [];
          renderFaultCards();
          loadFaults();
        }
        renderCircuits();
      })
      .catch(function () { /* the connection banner says it */ });
  }

  function renderPipeline(p, canReplay) {
    var box = $('pipeline');
    $('replay').hidden = !canReplay;
    if (!p) { box.replaceChildren(el('p', { className: 'muted', text: 'Checkout has no retry pipeline here.' })); return; }
    if (!p.available) {
      box.replaceChildren(el('p', { className: 'result error', text: 'Queues cannot be read: ' + (p.reason || p.broker) }));
      return;
    }
    var rows = [
      el('dt', { text: 'Waiting (work queue)' }), el('dd', { 'data-role': 'waiting', text: String(p.work.messages) }),
    ];
    p.delays.forEach(function (d) {
      rows.push(el('dt', { text: 'In delay tier ' + d.tier }), el('dd', { text: String(d.messages) }));
    });
    rows.push(el('dt', { text: 'Parked' }), el('dd', { 'data-role': 'parked', text: String(p.parked) }));
    var consuming = p.worker.state === 'consuming';
    rows.push(el('dt', { text: 'Worker' }), el('dd', { className: 'worker-' + p.worker.state, 'data-role': 'worker', text: consuming ? '▶ Consuming (' + p.worker.consumers + ' consumer' + (p.worker.consumers === 1 ? '' : 's') + ')' : '‖ No consumer: paused or not running' }));
    box.replaceChildren(
      el('dl', { className: 'kv' }, rows),
      el('p', { className: 'muted', text: 'Checkout sees the worker only through the broker: a worker pauses (cancels its consumer) while its payment circuit is open, so "no consumer" means paused or stopped.' }),
    );
  }

  function renderAnswers(a) {
    if (!a) return;
    var classes = [['201', '201 Created'], ['202', '202 Accepted (payment queued)'], ['4xx', '4xx refused'], ['503', '503 Unavailable'], ['other', 'Other']];
    var body = classes.map(function (c) {
      return el('tr', { 'data-status': c[0] }, [el('td', { text: c[1] }), el('td', { className: 'num', text: num(a.rates[c[0]], 2) }), el('td', { className: 'num', text: String(a.counts[c[0]]) })]);
    });
    $('answers').replaceChildren(
      el('table', null, [
        el('thead', null, [el('tr', null, [el('th', { text: 'Status' }), el('th', { className: 'num', text: 'per s' }), el('th', { className: 'num', text: 'count' })])]),
        el('tbody', null, body),
      ]),
      el('dl', { className: 'kv', style: 'margin-top:.6rem' }, [
        el('dt', { text: 'Latency p50' }), el('dd', { text: ms(a.p50Ms) }),
        el('dt', { text: 'Latency p99' }), el('dd', { text: ms(a.p99Ms) }),
        el('dt', { text: 'Answers' }), el('dd', { text: a.total + ' in ' + a.windowSeconds + ' s' }),
      ]),
    );
  }

  // ---- admin token -------------------------------------------------------------------
  function authHeaders(extra) {
    var headers = { Accept: 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    Object.keys(extra || {}).forEach(function (k) { headers[k] = extra[k]; });
    return headers;
  }
  function showTokenState(text) {
    $('token-status').textContent = text || (token ? 'Token set (this tab only)' : 'No token: read-only');
    $('token-forget').hidden = !token;
  }
  $('token-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var input = $('token-input');
    var value = input.value.trim();
    input.value = '';
    token = value || null;
    try { if (token) sessionStorage.setItem(TOKEN_KEY, token); else sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* private mode */ }
    showTokenState();
    loadFaults();
  });
  $('token-forget').addEventListener('click', function () {
    token = null;
    try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* ignore */ }
    showTokenState();
    loadFaults();
  });

  function errorText(status, body) {
    if (status === 401) return '401: an admin token is needed. Nothing changed.';
    if (status === 403) return '403: the admin token was refused. Nothing changed.';
    var message = body && (body.message || body.error);
    var fields = body && body.fields ? ' (' + body.fields.map(function (f) { return f.path + ': ' + f.message; }).join('; ') + ')' : '';
    return status + ': ' + (message || 'failed') + fields;
  }

  // ---- replay ------------------------------------------------------------------------
  $('replay').addEventListener('click', function () {
    var out = $('replay-status');
    if (!token) { out.className = 'result error'; out.textContent = 'Enter the admin token first.'; return; }
    out.className = 'result'; out.textContent = 'Replaying…';
    fetch('/dashboard/api/parked/replay', { method: 'POST', headers: authHeaders({ 'Content-Type': 'application/json' }), body: '{}' })
      .then(function (res) { return res.json().catch(function () { return null; }).then(function (body) { return { status: res.status, body: body }; }); })
      .then(function (r) {
        if (r.status === 200) {
          out.className = 'result ok';
          out.textContent = 'Replayed ' + r.body.replayed + ', failed ' + r.body.failed + ', ' + r.body.remaining + ' left parked.';
          loadOverview();
        } else { out.className = 'result error'; out.textContent = errorText(r.status, r.body); }
      })
      .catch(function () { out.className = 'result error'; out.textContent = 'Checkout cannot be reached.'; });
  });

  // ---- faults ------------------------------------------------------------------------
  function field(label, name, attrs) {
    var input = el('input', Object.assign({ type: 'number', name: name, inputmode: 'decimal' }, attrs || {}));
    return el('label', null, [label, input]);
  }
  function check(label, name) {
    return el('label', { className: 'check' }, [el('input', { type: 'checkbox', name: name }), label]);
  }

  function renderFaultCards() {
    var container = $('faults');
    faultCards = {};
    var cards = stubs.map(function (name) {
      var current = el('p', { className: 'current', 'data-role': 'current', text: token ? 'Loading…' : 'Enter the admin token to see the current faults.' });
      var result = el('p', { className: 'result', 'data-role': 'result', role: 'status', 'aria-live': 'polite' });
      var status = el('select', { name: 'errorStatus' }, [el('option', { value: '500', text: '500' }), el('option', { value: '503', text: '503' }), el('option', { value: '429', text: '429' })]);
      var apply = el('button', { type: 'submit', className: 'primary', 'data-action': 'apply', text: 'Apply' });
      var clear = el('button', { type: 'button', 'data-action': 'clear', text: 'Clear all' });
      var form = el('form', { 'data-stub-form': name, novalidate: true }, [
        field('Error rate %', 'errorRate', { min: 0, max: 100, step: 1, placeholder: '0' }),
        el('label', null, ['Error status', status]),
        field('Latency ms', 'latencyMs', { min: 0, max: 300000, step: 1, placeholder: '0' }),
        field('± jitter ms', 'jitterMs', { min: 0, max: 300000, step: 1, placeholder: '0' }),
        field('Flap period ms', 'flapPeriodMs', { min: 10, max: 3600000, step: 1, placeholder: 'off' }),
        field('Flap failing %', 'flapDuty', { min: 0, max: 100, step: 1, placeholder: '50' }),
        el('div', { className: 'checks' }, [check('Hang', 'hang'), check('Reset', 'reset'), check('Down (503)', 'down')]),
        el('div', { className: 'actions' }, [apply, clear]),
      ]);
      form.addEventListener('submit', function (event) {
        event.preventDefault();
        var settings;
        try { settings = readSettings(form); } catch (e) { result.className = 'result error'; result.textContent = e.message; return; }
        change(name, 'PUT', settings);
      });
      // form.reset is shadowed by the field named "reset": call the prototype's.
      clear.addEventListener('click', function () { HTMLFormElement.prototype.reset.call(form); change(name, 'DELETE'); });
      faultCards[name] = { current: current, result: result, form: form, changes: 0 };
      return el('article', { className: 'card fault', 'data-stub': name }, [el('header', null, [el('h3', { text: name })]), current, form, result]);
    });
    container.replaceChildren.apply(container, cards);
  }

  function readSettings(form) {
    function value(name) {
      var raw = form.elements[name].value.trim();
      if (raw === '') return null;
      var n = Number(raw);
      if (!isFinite(n) || n < 0) throw new Error(name + ' must be a number ≥ 0');
      return n;
    }
    var settings = {};
    var rate = value('errorRate');
    if (rate) { settings.errorRate = Math.min(100, rate) / 100; settings.errorStatus = Number(form.elements.errorStatus.value); }
    var latency = value('latencyMs');
    if (latency) settings.latencyMs = Math.round(latency);
    var jitter = value('jitterMs');
    if (jitter) settings.jitterMs = Math.round(jitter);
    var period = value('flapPeriodMs');
    if (period) {
      var duty = value('flapDuty');
      settings.flap = { periodMs: Math.round(period), dutyCycle: (duty === null ? 50 : Math.min(100, duty)) / 100 };
    }
    ['hang', 'reset', 'down'].forEach(function (name) { if (form.elements[name].checked) settings[name] = true; });
    return settings;
  }

  function change(name, method, settings) {
    var card = faultCards[name];
    if (!token) { card.result.className = 'result error'; card.result.textContent = 'Enter the admin token first. Nothing changed.'; return; }
    card.changes++; // a listing asked for before this change must not overwrite its answer
    card.result.className = 'result';
    card.result.textContent = method === 'PUT' ? 'Applying…' : 'Clearing…';
    var init = { method: method, headers: authHeaders(method === 'PUT' ? { 'Content-Type': 'application/json' } : {}) };
    if (method === 'PUT') init.body = JSON.stringify(settings);
    fetch('/dashboard/api/faults/' + encodeURIComponent(name), init)
      .then(function (res) { return res.json().catch(function () { return null; }).then(function (body) { return { status: res.status, body: body }; }); })
      .then(function (r) {
        if (r.status === 200) {
          card.result.className = 'result ok';
          card.result.textContent = method === 'PUT' ? 'Applied.' : 'Cleared.';
          showFaults(name, r);
        } else {
          card.result.className = 'result error';
          card.result.textContent = errorText(r.status, r.body);
        }
      })
      .catch(function () { card.result.className = 'result error'; card.result.textContent = 'Checkout cannot be reached. Nothing changed.'; });
  }

  function describeFaults(snapshot) {
    var s = snapshot.settings || {};
    if (!snapshot.active) return 'No faults: healthy';
    var parts = [];
    if (s.down) parts.push('down (503)');
    if (s.hang) parts.push('hang');
    if (s.reset) parts.push('reset');
    if (s.errorRate > 0) parts.push('errors ' + pct(s.errorRate) + ' (' + s.errorStatus + ')');
    if (s.latencyMs > 0 || s.jitterMs > 0) parts.push('latency ' + s.latencyMs + (s.jitterMs ? ' ± ' + s.jitterMs : '') + ' ms');
    if (s.flap) parts.push('flap ' + s.flap.periodMs + ' ms, failing ' + pct(s.flap.dutyCycle));
    if (s.everyNth) parts.push('every ' + s.everyNth + 'th');
    if (s.routes) parts.push('on ' + s.routes.join(', '));
    var injected = snapshot.injected ? Object.keys(snapshot.injected).reduce(function (sum, k) { return sum + snapshot.injected[k]; }, 0) : 0;
    return '⚠ ' + parts.join(', ') + ' · ' + injected + ' injected in ' + snapshot.requests + ' requests';
  }

  function showFaults(name, answer) {
    var card = faultCards[name];
    if (!card) return;
    if (answer.status === 200 && answer.body) {
      card.current.className = 'current' + (answer.body.active ? ' active' : '');
      card.current.setAttribute('data-active', answer.body.active ? 'true' : 'false');
      card.current.textContent = describeFaults(answer.body);
    } else {
      card.current.className = 'current';
      card.current.removeAttribute('data-active');
      card.current.textContent = answer.status === 502 ? 'Unreachable: ' + ((answer.body && answer.body.message) || 'no answer') : errorText(answer.status, answer.body);
    }
  }

  function loadFaults() {
    if (stubs.length === 0) return;
    if (!token) {
      stubs.forEach(function (name) { var c = faultCards[name]; if (c) { c.current.className = 'current'; c.current.textContent = 'Enter the admin token to see the current faults.'; } });
      return;
    }
    var asked = {};
    stubs.forEach(function (name) { asked[name] = faultCards[name] ? faultCards[name].changes : 0; });
    var fresh = function (name) { return !faultCards[name] || faultCards[name].changes === asked[name]; };
    fetch('/dashboard/api/faults', { headers: authHeaders(), cache: 'no-store' })
      .then(function (res) { return res.json().catch(function () { return null; }).then(function (body) { return { status: res.status, body: body }; }); })
      .then(function (r) {
        if (r.status === 200) {
          showTokenState('Token accepted (kept in this tab only)');
          Object.keys(r.body.services).forEach(function (name) { if (fresh(name)) showFaults(name, r.body.services[name]); });
        } else {
          showTokenState(r.status === 403 ? 'Token refused: changes will be rejected' : errorText(r.status, r.body));
          stubs.forEach(function (name) { showFaults(name, r); });
        }
      })
      .catch(function () { /* the connection banner says it */ });
  }

  showTokenState();
  connect();
  loadOverview();
  setInterval(loadOverview, 2000);
  setInterval(loadFaults, 3000);
})();
`;
