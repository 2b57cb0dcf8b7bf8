/**
 * The live dashboard page the stats server serves at `/dashboard` with
 * `--stats-http`: one self-contained HTML file (no CDN, no external asset)
 * that polls the stats JSON from the same server and draws three SVG charts:
 * requests per second per worker, cache hit rate per cache, memory per worker.
 * @module
 */

/** The page. `?interval=MS` sets the polling period (default 1000 ms, at least 100). */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>uwsgi-wasm dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root { color-scheme: light; --fg: #1d2430; --muted: #667085; --grid: #e4e7ec; --bg: #f8f9fb; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
  header { padding: 12px 20px; background: #1d2430; color: #fff; display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0; }
  header span { color: #c8cdd6; }
  main { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 16px; padding: 16px 20px; }
  section { background: #fff; border: 1px solid var(--grid); border-radius: 8px; padding: 12px 14px; }
  section h2 { font-size: 15px; margin: 0 0 6px; }
  svg { width: 100%; height: 200px; display: block; }
  .legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin-top: 6px; color: var(--muted); font-size: 12px; }
  .legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
  .status { color: var(--muted); }
  .error { color: #b42318; }
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
  <section><h2>Requests per second, per worker</h2><svg id="chart-requests" role="img" aria-label="requests per second per worker"></svg><div class="legend" id="legend-requests"></div></section>
  <section><h2>Cache hit rate</h2><svg id="chart-caches" role="img" aria-label="cache hit rate"></svg><div class="legend" id="legend-caches"></div></section>
  <section><h2>Memory per worker</h2><svg id="chart-memory" role="img" aria-label="memory per worker"></svg><div class="legend" id="legend-memory"></div></section>
</main>
<script>
"use strict";
(function () {
  var KEEP = 60;
  var COLORS = ["#2e90fa", "#f79009", "#12b76a", "#9e77ed", "#f04438", "#0ba5ec", "#ee46bc", "#667085"];
  var q = new URLSearchParams(location.search);
  var interval = Math.max(100, Number(q.get("interval")) || 1000);
  var source = q.get("source") || "/";
  var state = { samples: 0, errors: 0, requests: {}, caches: {}, memory: {}, last: null, prev: null };
  window.__dashboard = state;

  function push(map, name, value) {
    var s = map[name] || (map[name] = []);
    s.push(value);
    if (s.length > KEEP) s.shift();
  }
  function svgEl(tag, attrs) {
    var e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  function fmt(v, unit) {
    if (unit === "%") return v.toFixed(0) + "%";
    if (unit === "B") {
      var u = ["B", "KiB", "MiB", "GiB"], i = 0;
      while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
      return v.toFixed(v >= 100 || i === 0 ? 0 : 1) + " " + u[i];
    }
    return v >= 100 ? v.toFixed(0) : v.toFixed(1);
  }
  function draw(id, map, unit, fixedMax) {
    var svg = document.getElementById("chart-" + id);
    var legend = document.getElementById("legend-" + id);
    var W = svg.clientWidth || 400, H = svg.clientHeight || 200, L = 58, R = 8, T = 8, B = 20;
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    while (legend.firstChild) legend.removeChild(legend.firstChild);
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    var names = Object.keys(map).sort();
    var max = fixedMax || 0;
    if (!fixedMax) names.forEach(function (n) { map[n].forEach(function (v) { if (v > max) max = v; }); });
    if (max <= 0) max = 1;
    for (var g = 0; g <= 4; g++) {
      var y = T + (H - T - B) * (1 - g / 4);
      svg.appendChild(svgEl("line", { x1: L, x2: W - R, y1: y, y2: y, stroke: "#e4e7ec" }));
      var label = svgEl("text", { x: L - 6, y: y + 4, "text-anchor": "end", "font-size": 11, fill: "#667085" });
      label.textContent = fmt(max * g / 4, unit);
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
      var path = svgEl("path", { d: d, fill: "none", stroke: color, "stroke-width": 2, "data-series": n, "data-last": pts[pts.length - 1] });
      svg.appendChild(path);
      var item = document.createElement("span");
      var sw = document.createElement("i");
      sw.style.background = color;
      item.appendChild(sw);
      item.appendChild(document.createTextNode(n + ": " + fmt(pts[pts.length - 1], unit)));
      item.setAttribute("data-series", n);
      legend.appendChild(item);
    });
  }
  function num(v) { return typeof v === "number" ? v : Number(v) || 0; }
  function sample(doc, at) {
    var prev = state.prev;
    var dt = prev ? (at - prev.at) / 1000 : 0;
    var workers = doc.workers || [];
    workers.forEach(function (w) {
      var name = "worker " + w.id;
      var before = prev && prev.requests[w.id];
      push(state.requests, name, dt > 0 && before !== undefined ? Math.max(0, (num(w.requests) - before) / dt) : 0);
      push(state.memory, name, num(w.rss));
    });
    if (doc.memory) push(state.memory, "process", num(doc.memory.rss));
    (doc.caches || []).forEach(function (c) {
      var lookups = num(c.hits) + num(c.miss);
      push(state.caches, c.name, lookups ? 100 * num(c.hits) / lookups : 0);
    });
    var reqs = {};
    workers.forEach(function (w) { reqs[w.id] = num(w.requests); });
    state.prev = { at: at, requests: reqs };
    state.last = doc;
    state.samples++;
    document.getElementById("version").textContent = "v" + doc.version + " · pid " + doc.pid;
    var total = workers.reduce(function (n, w) { return n + num(w.requests); }, 0);
    document.getElementById("summary").textContent = workers.length + " workers · " + total + " requests · " + (doc.caches || []).length + " caches";
    draw("requests", state.requests, "");
    draw("caches", state.caches, "%", 100);
    draw("memory", state.memory, "B");
  }
  function poll() {
    fetch(source, { cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (doc) {
      sample(doc, Date.now());
      var st = document.getElementById("status");
      st.className = "status";
      st.textContent = "updated " + new Date().toLocaleTimeString();
    }).catch(function (e) {
      state.errors++;
      var st = document.getElementById("status");
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
