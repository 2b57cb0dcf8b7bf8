/**
 * The live dashboard page the stats server serves at `/dashboard` with
 * `--stats-http`: one self-contained HTML file (no build step, no CDN, no
 * external asset) that polls the stats JSON from the same server and shows
 * what uwsgitop shows and more: a workers table and their requests per
 * second, mules and farms with their mailboxes, the spooler, caches with a hit
 * rate chart, the queue, held locks, signals, timers and cron, SNMP values,
 * shared areas, the process's memory and the master's log tail. Every value
 * is put in the page as text (never parsed as HTML), so a cache or file name
 * cannot inject anything.
 * @module
 */

/** The page. `?interval=MS` sets the polling period (default 1000 ms, at least 100); `?source=URL` reads another stats server. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>uwsgi-wasm dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root { color-scheme: light; --fg: #1d2430; --muted: #667085; --grid: #e4e7ec; --bg: #f4f5f7; --accent: #2e90fa; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 13px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
  header { padding: 10px 18px; background: #1d2430; color: #fff; display: flex; gap: 20px; align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 17px; margin: 0; }
  header span { color: #c8cdd6; }
  header b { color: #fff; font-weight: 600; }
  main { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); grid-auto-flow: dense; gap: 12px; padding: 12px 18px; }
  section { background: #fff; border: 1px solid var(--grid); border-radius: 8px; padding: 10px 12px; min-width: 0; overflow-x: auto; }
  section.wide { grid-column: 1 / -1; }
  @media (min-width: 900px) { section.span2 { grid-column: span 2; } }
  section h2 { font-size: 14px; margin: 0 0 6px; display: flex; justify-content: space-between; gap: 8px; }
  section h2 small { color: var(--muted); font-weight: 400; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { padding: 3px 5px; text-align: right; border-bottom: 1px solid var(--grid); white-space: nowrap; }
  th { color: var(--muted); font-weight: 500; font-size: 12px; }
  th:first-child, td:first-child, td.text, th.text { text-align: left; }
  td.text { max-width: 14em; overflow: hidden; text-overflow: ellipsis; }
  .empty { color: var(--muted); font-style: italic; padding: 4px 0; }
  .st-idle { color: #067647; } .st-busy { color: #b54708; font-weight: 600; } .st-sig { color: #6941c6; font-weight: 600; }
  .st-cheap, .st-done { color: var(--muted); } .st-starting { color: #b54708; }
  .bar { display: inline-block; width: 48px; height: 8px; background: var(--grid); border-radius: 4px; vertical-align: middle; margin-left: 6px; overflow: hidden; }
  .bar i { display: block; height: 100%; background: var(--accent); }
  .bar.hot i { background: #f04438; }
  svg { width: 100%; height: 170px; display: block; }
  .legend { display: flex; flex-wrap: wrap; gap: 2px 12px; margin-top: 4px; color: var(--muted); font-size: 12px; }
  .legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
  .kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; }
  .kv dt { color: var(--muted); } .kv dd { margin: 0; font-variant-numeric: tabular-nums; }
  pre.log { margin: 0; max-height: 180px; overflow: auto; font: 12px/1.35 ui-monospace, monospace; white-space: pre-wrap; }
  .status { color: #c8cdd6; } .error { color: #fda29b; }
</style>
</head>
<body>
<header>
  <h1>uwsgi-wasm</h1>
  <span id="version">connecting…</span>
  <span id="summary"></span>
  <span id="status" class="status"></span>
</header>
<main>
  <section class="wide" data-panel="workers"><h2>Workers <small id="workers-note"></small></h2><div class="body"></div></section>
  <section data-panel="requests"><h2>Requests per second, per worker</h2><svg id="chart-requests" role="img" aria-label="requests per second per worker"></svg><div class="legend" id="legend-requests"></div></section>
  <section data-panel="caches"><h2>Caches</h2><div class="body"></div><svg id="chart-caches" role="img" aria-label="cache hit rate"></svg><div class="legend" id="legend-caches"></div></section>
  <section class="span2" data-panel="mules"><h2>Mules and farms <small id="mules-note"></small></h2><div class="body"></div></section>
  <section class="span2" data-panel="spooler"><h2>Spooler</h2><div class="body"></div></section>
  <section data-panel="queue"><h2>Queue</h2><div class="body"></div></section>
  <section data-panel="locks"><h2>Locks</h2><div class="body"></div></section>
  <section data-panel="signals"><h2>Signals <small id="signals-note"></small></h2><div class="body"></div></section>
  <section data-panel="timers"><h2>Timers and cron</h2><div class="body"></div></section>
  <section data-panel="cluster"><h2>Cluster <small id="cluster-note"></small></h2><div class="body"></div></section>
  <section data-panel="snmp"><h2>SNMP <small id="snmp-note"></small></h2><div class="body"></div></section>
  <section data-panel="sharedareas"><h2>Shared areas</h2><div class="body"></div></section>
  <section data-panel="memory"><h2>Memory <small>the process (threads share it)</small></h2><div class="body"></div><svg id="chart-memory" role="img" aria-label="process memory"></svg><div class="legend" id="legend-memory"></div></section>
  <section class="wide" data-panel="log"><h2>Master log <small>latest lines</small></h2><div class="body"></div></section>
</main>
<script>
"use strict";
(function () {
  var KEEP = 60;
  var COLORS = ["#2e90fa", "#f79009", "#12b76a", "#9e77ed", "#f04438", "#0ba5ec", "#ee46bc", "#667085"];
  var q = new URLSearchParams(location.search);
  var interval = Math.max(100, Number(q.get("interval")) || 1000);
  var source = q.get("source") || "/";
  // Everything the page drew from, for tests and the curious (window.__dashboard in the console).
  var state = { samples: 0, errors: 0, requests: {}, caches: {}, memory: {}, rps: {}, last: null, prev: null };
  window.__dashboard = state;

  function $(sel) { return document.querySelector(sel); }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) if (attrs[k] !== undefined) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  function svgEl(tag, attrs) {
    var e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  function num(v) { return typeof v === "number" ? v : Number(v) || 0; }
  function push(map, name, value) {
    var s = map[name] || (map[name] = []);
    s.push(value);
    if (s.length > KEEP) s.shift();
  }
  function bytes(v) {
    var u = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
    while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return v.toFixed(v >= 100 || i === 0 ? 0 : 1) + " " + u[i];
  }
  function micros(us) { us = num(us); return us >= 1e6 ? (us / 1e6).toFixed(2) + " s" : us >= 1000 ? (us / 1000).toFixed(1) + " ms" : us + " µs"; }
  function clock(sec) { return sec ? new Date(sec * 1000).toLocaleTimeString() : "–"; }
  function after(sec) {
    if (sec === null || sec === undefined) return "never";
    if (sec <= 0) return "due";
    if (sec < 60) return "in " + sec.toFixed(sec < 10 ? 1 : 0) + " s";
    if (sec < 3600) return "in " + Math.floor(sec / 60) + " min " + Math.round(sec % 60) + " s";
    if (sec < 86400) return "in " + Math.floor(sec / 3600) + " h " + Math.round((sec % 3600) / 60) + " min";
    return "in " + (sec / 86400).toFixed(1) + " days";
  }
  function bar(part, whole) {
    var b = el("span", { "class": "bar" + (whole && part / whole > 0.8 ? " hot" : "") });
    var i = el("i");
    i.style.width = (whole ? Math.min(100, 100 * part / whole) : 0).toFixed(1) + "%";
    b.appendChild(i);
    return b;
  }
  /** A cell: text, or { text, cls, bar: [part, whole] }. */
  function cell(c, tag) {
    var td = el(tag || "td");
    if (c !== null && typeof c === "object") {
      td.textContent = String(c.text);
      if (c.cls) td.className = c.cls;
      if (c.bar) td.appendChild(bar(c.bar[0], c.bar[1]));
    } else td.textContent = String(c);
    return td;
  }
  /** Replace the body of panel \`name\` with a table (or the \`none\` note when there are no rows). */
  function table(name, headers, rows, none) {
    var body = $('[data-panel="' + name + '"] .body');
    while (body.firstChild) body.removeChild(body.firstChild);
    if (!rows.length) { body.appendChild(el("div", { "class": "empty" }, none)); return; }
    var t = el("table"), tr = el("tr");
    headers.forEach(function (h) { var th = el("th", {}, h.replace(/^@/, "")); if (h.charAt(0) === "@") th.className = "text"; tr.appendChild(th); });
    t.appendChild(tr);
    rows.forEach(function (r) {
      var row = el("tr");
      r.forEach(function (c, i) {
        var td = cell(c);
        // Text columns are cut with an ellipsis; the whole value is the cell's tooltip.
        if (headers[i].charAt(0) === "@") { td.classList.add("text"); td.title = td.textContent; }
        row.appendChild(td);
      });
      t.appendChild(row);
    });
    body.appendChild(t);
  }
  function keyValues(name, pairs) {
    var body = $('[data-panel="' + name + '"] .body');
    while (body.firstChild) body.removeChild(body.firstChild);
    var dl = el("dl", { "class": "kv" });
    pairs.forEach(function (p) {
      dl.appendChild(el("dt", {}, p[0]));
      var dd = el("dd", {}, p[1]);
      if (p[2]) dd.appendChild(bar(p[2][0], p[2][1]));
      dl.appendChild(dd);
    });
    body.appendChild(dl);
  }
  function statusClass(s) { return /^sig/.test(s) ? "st-sig" : "st-" + s; }

  function chart(id, map, unit, fixedMax) {
    var svg = document.getElementById("chart-" + id), legend = document.getElementById("legend-" + id);
    var W = svg.clientWidth || 400, H = svg.clientHeight || 170, L = 58, R = 8, T = 8, B = 18;
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    while (legend.firstChild) legend.removeChild(legend.firstChild);
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    var names = Object.keys(map).sort(), max = fixedMax || 0;
    var fmt = function (v) { return unit === "%" ? v.toFixed(0) + "%" : unit === "B" ? bytes(v) : v >= 100 ? v.toFixed(0) : v.toFixed(1); };
    if (!fixedMax) names.forEach(function (n) { map[n].forEach(function (v) { if (v > max) max = v; }); });
    if (max <= 0) max = 1;
    for (var g = 0; g <= 4; g++) {
      var y = T + (H - T - B) * (1 - g / 4);
      svg.appendChild(svgEl("line", { x1: L, x2: W - R, y1: y, y2: y, stroke: "#e4e7ec" }));
      var label = svgEl("text", { x: L - 6, y: y + 4, "text-anchor": "end", "font-size": 11, fill: "#667085" });
      label.textContent = fmt(max * g / 4);
      svg.appendChild(label);
    }
    var xl = svgEl("text", { x: W - R, y: H - 4, "text-anchor": "end", "font-size": 11, fill: "#667085" });
    xl.textContent = "last " + Math.round(KEEP * interval / 1000) + " s";
    svg.appendChild(xl);
    names.forEach(function (n, i) {
      var pts = map[n], color = COLORS[i % COLORS.length];
      var step = (W - L - R) / (KEEP - 1), x0 = W - R - (pts.length - 1) * step;
      var d = pts.map(function (v, j) {
        return (j ? "L" : "M") + (x0 + j * step).toFixed(1) + " " + (T + (H - T - B) * (1 - Math.min(v, max) / max)).toFixed(1);
      }).join(" ");
      svg.appendChild(svgEl("path", { d: d, fill: "none", stroke: color, "stroke-width": 2, "data-series": n, "data-last": pts[pts.length - 1] }));
      var item = el("span", { "data-series": n }), sw = el("i");
      sw.style.background = color;
      item.appendChild(sw);
      item.appendChild(document.createTextNode(n + ": " + fmt(pts[pts.length - 1])));
      legend.appendChild(item);
    });
  }

  function sample(doc, at) {
    var prev = state.prev, dt = prev ? (at - prev.at) / 1000 : 0;
    var workers = doc.workers || [], reqs = {}, totalRps = 0;
    workers.forEach(function (w) {
      var before = prev && prev.requests[w.id];
      var rps = dt > 0 && before !== undefined ? Math.max(0, (num(w.requests) - before) / dt) : 0;
      state.rps[w.id] = rps;
      totalRps += rps;
      push(state.requests, "worker " + w.id, rps);
      reqs[w.id] = num(w.requests);
    });
    (doc.caches || []).forEach(function (c) {
      var lookups = num(c.hits) + num(c.miss);
      push(state.caches, c.name, lookups ? 100 * num(c.hits) / lookups : 0);
    });
    if (doc.memory) push(state.memory, "process rss", num(doc.memory.rss));
    state.prev = { at: at, requests: reqs };
    state.last = doc;
    state.samples++;

    var total = workers.reduce(function (n, w) { return n + num(w.requests); }, 0);
    $("#version").textContent = "v" + doc.version + " · pid " + doc.pid + " · " + doc.cwd;
    $("#summary").textContent = workers.length + " workers · " + total + " requests · " + Math.round(totalRps) + " req/s · load " + doc.load +
      (doc.memory ? " · rss " + bytes(num(doc.memory.rss)) : "");

    // Workers: uwsgitop's columns, sorted by requests as it does, plus the last response time and the thread.
    var rows = workers.slice().sort(function (a, b) { return num(b.requests) - num(a.requests) || a.id - b.id; }).map(function (w) {
      return [w.id, { text: w.status, cls: statusClass(w.status) }, num(w.requests), Math.round(state.rps[w.id] || 0), num(w.exceptions),
        micros(w.avg_rt), micros(w.last_rt || 0), num(w.tx), w.respawn_count, w.harakiri_count, num(w.signals), w.signal_queue, num(w.grunts),
        clock(w.last_spawn), { text: (w.thread_state || "") + (w.tid >= 0 ? " (slot " + w.tid + ")" : ""), cls: "st-" + w.thread_state }];
    });
    table("workers", ["WID", "@status", "requests", "req/s", "exceptions", "avg rt", "last rt", "tx bytes", "spawns", "harakiri", "signals", "sig queue", "grunts", "last spawn", "@thread"], rows, "no workers (an engine without a master)");
    $("#workers-note").textContent = "status sig<N>: running the handler of signal N";

    chart("requests", state.requests, "");

    var caches = doc.caches || [];
    table("caches", ["@name", "items / max", "hits", "misses", "full", "hit rate"], caches.map(function (c) {
      var lookups = num(c.hits) + num(c.miss);
      return [c.name, { text: c.items + " / " + c.max_items, bar: [c.items, c.max_items] }, num(c.hits), num(c.miss), num(c.full),
        lookups ? (100 * num(c.hits) / lookups).toFixed(1) + "%" : "–"];
    }), "no cache configured (--cache2)");
    chart("caches", state.caches, "%", 100);

    var mules = doc.mules || [], farms = doc.farms || [], box = doc.mule_mailbox;
    var muleRows = mules.map(function (m) {
      return ["mule " + m.id, { text: m.thread_state, cls: "st-" + m.thread_state }, { text: m.queue, bar: [m.queue, box ? box.slots : 8] },
        num(m.signals), m.signal_queue, m.respawn_count, (m.farms || []).join(", ") || "–", m.file ? String(m.file).split("/").pop() : "(plain)"];
    });
    farms.forEach(function (f) { muleRows.push(["farm " + f.name, "", { text: f.queue, bar: [f.queue, box ? box.slots : 8] }, "", "", "", "mules " + f.mules.join(", "), ""]); });
    if (box) muleRows.push(["shared mailbox", "", { text: box.shared, bar: [box.shared, box.slots] }, "", "", "", "", ""]);
    table("mules", ["@mule", "@state", "mailbox", "signals", "sig queue", "spawns", "@farms", "@file"], muleRows, "no mule configured (--mule, --mules)");
    $("#mules-note").textContent = box ? "mailboxes hold " + box.slots + " messages" : "";

    var spoolers = doc.spoolers || [];
    table("spooler", ["@directory", "pid", "waiting", "running", "done", "failed", "respawns"], spoolers.map(function (s) {
      return [s.dir, s.pid || "–", s.waiting === undefined ? "–" : s.waiting, s.running ? "yes" : "no", num(s.tasks) - num(s.failed), s.failed === undefined ? "–" : s.failed, s.respawns];
    }), "no spooler configured (--spooler)");

    if (doc.queue) {
      var qu = doc.queue;
      keyValues("queue", [["slots in use", qu.used + " / " + qu.slots, [qu.used, qu.slots]], ["slot size", bytes(qu.blocksize)], ["next push slot", qu.push_slot], ["next pull slot", qu.pull_slot]]);
    } else table("queue", [], [], "no queue configured (--queue)");

    var held = doc.lock_holders || [];
    table("locks", ["@lock", "@held by", "slot"], held.map(function (h) { return [h.lock, h.holder, h.tid]; }),
      "none of the " + (doc.locks || []).length + " user locks is held");

    var sigs = doc.signals || [];
    var handled = workers.concat(mules).reduce(function (n, t) { return n + num(t.signals); }, 0);
    var total = function (k) { return sigs.reduce(function (n, s) { return n + num(s[k]); }, 0); };
    table("signals", ["signal", "@target", "@handlers", "raised", "delivered", "queued", "lost"], sigs.map(function (s) {
      return [s.signum, s.target, (s.handlers || []).join(", ") || "none running", num(s.raised), num(s.delivered), num(s.queued),
        num(s.lost) ? { text: num(s.lost), cls: "st-busy" } : 0];
    }), "no signal registered");
    $("#signals-note").textContent = total("raised") + " raised · " + handled + " handled · " + total("queued") + " queued · " + total("lost") + " lost · master queue " + doc.signal_queue;

    var timers = (doc.timers || []).map(function (t) {
      return [t.signum, t.kind === "rb_timer" ? "rb_timer" : "timer", "every " + t.interval + " s" + (t.iterations ? ", " + t.iterations + " times" : ""), t.fired, after(t.next_in)];
    }).concat((doc.crons || []).map(function (c) {
      return [c.signum, "cron", [c.minute, c.hour, c.day, c.month, c.weekday].join(" "), c.last ? "last " + clock(c.last) : "not yet", after(c.next_in)];
    }));
    table("timers", ["signal", "@kind", "@when", "fired", "next"], timers, "no timer or cron entry");

    var cluster = doc.cluster;
    table("cluster", ["@node", "@host", "workers", "load", "requests", "last seen", "@state"], cluster ? cluster.nodes.map(function (n) {
      return [n.name, n.nodename, n.workers, n.load, num(n.requests), clock(n.last_seen), n.live ? { text: "live", cls: "st-idle" } : { text: "silent", cls: "st-busy" }];
    }) : [], cluster ? "no node heard yet" : "not in a cluster (--cluster)");
    $("#cluster-note").textContent = cluster ? cluster.group + " · " + cluster.nodes.filter(function (n) { return n.live; }).length + " live" : "";

    var snmp = doc.snmp || { slots: [] };
    table("snmp", ["@OID", "@type", "value"], snmp.slots.map(function (s) { return [s.oid, s.type, s.value]; }), "no SNMP slot set");
    $("#snmp-note").textContent = snmp.agent ? "agent running" + (snmp.community_set ? "" : ", no community set") : "no agent (--snmp)";

    table("sharedareas", ["area", "size", "updates", "reads"], (doc.sharedareas || []).map(function (a) { return [a.id, bytes(a.size), num(a.updates), num(a.hits)]; }), "no shared area configured (--sharedarea)");

    if (doc.memory) keyValues("memory", [["resident (rss)", bytes(num(doc.memory.rss))], ["virtual (vsz)", bytes(num(doc.memory.vsz))], ["shared wasm memory", bytes(num(doc.memory.shared))]]);
    chart("memory", state.memory, "B");

    var log = $('[data-panel="log"] .body');
    while (log.firstChild) log.removeChild(log.firstChild);
    var lines = doc.log || [];
    log.appendChild(lines.length ? el("pre", { "class": "log" }, lines.join("\\n")) : el("div", { "class": "empty" }, "nothing logged by the master yet"));
  }

  function poll() {
    fetch(source, { cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (doc) {
      sample(doc, Date.now());
      var st = $("#status");
      st.className = "status";
      st.textContent = "updated " + new Date().toLocaleTimeString();
    }).catch(function (e) {
      state.errors++;
      var st = $("#status");
      st.className = "error";
      st.textContent = "stats unavailable: " + e.message;
    }).then(function () { setTimeout(poll, interval); });
  }
  poll();
})();
</script>
</body>
</html>
`;
