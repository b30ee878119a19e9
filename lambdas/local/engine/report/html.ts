/**
 * The report as one self-contained HTML page: the data as JSON and Chart.js (its UMD build, read from the installed
 * package) inline, styles inline, and a Content-Security-Policy that allows nothing to be fetched — the page works
 * offline, from a mail attachment or a CI artifact, and cannot call out when it is opened. Every text from the
 * ledger is escaped (HTML in the markup, `<` in the JSON), so a table name or an error message cannot break out.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ReportData, ReportTable } from './data.js';

/** Chart.js's UMD build, minified; its source-map comment dropped (nothing is to be fetched). */
export function chartJsSource(): string {
  // chart.js's exports map names only its module builds; the UMD build sits beside the CommonJS one.
  const main = createRequire(import.meta.url).resolve('chart.js');
  const file = join(dirname(main), 'chart.umd.min.js');
  const text = readFileSync(file, 'utf8');
  // Inline, the script must not end its own element early; a build of Chart.js that did would be refused here.
  if (/<\/script|<!--/i.test(text)) throw new Error(`${file} cannot be inlined in a <script> element`);
  return text.replace(/\/\/# sourceMappingURL=\S+\s*$/, '');
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON safe inside a <script> element: no `<` (so no `</script>` or `<!--`), and no U+2028/2029 line breaks. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Nothing may be loaded: scripts and styles are the page's own (inline), images only data: URLs (canvas export). */
const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2329;background:#f6f7f9}
header{background:#1d2329;color:#fff;padding:16px 28px}header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#b8c0c8}
main{padding:8px 28px 40px}section{background:#fff;border:1px solid #dde1e6;border-radius:8px;margin:20px 0;padding:16px 20px}
section h2{margin:0 0 4px;font-size:17px}.meta{color:#5b6670;margin:0 0 12px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:16px}
figure{margin:0}figcaption{font-weight:600;margin-bottom:4px}.chart{position:relative;height:220px}
.note{color:#5b6670;font-style:italic}table{border-collapse:collapse;margin-top:8px}
td,th{border-bottom:1px solid #e5e8eb;padding:4px 10px;text-align:left;vertical-align:top}
.ok{color:#2e7d32}.bad{color:#c62828}.num{text-align:right}`;

function verificationHtml(t: ReportTable): string {
  const v = t.verification;
  if (!v) return '<p class="note">never verified (<code>highwater verify -t TABLE</code>)</p>';
  const what = v.equal
    ? `<span class="ok">equal to the source</span>`
    : `<span class="bad">${v.missing + v.extra + v.changed} key(s) differ</span>: ${v.missing} missing, ${v.extra} extra, ${v.changed} changed`;
  return `<p>${escapeHtml(v.at)}: ${what}; ${v.rows.source} rows in the source, ${v.rows.warehouse} in the warehouse${v.pending ? `, ${v.pending} pending` : ''}</p>`;
}

function failuresHtml(t: ReportTable): string {
  if (t.failures.length === 0) return '<p class="note">no failed run among these runs</p>';
  const rows = t.failures
    .map((f) => `<tr><td>${escapeHtml(f.at)}</td><td>${escapeHtml(f.runId)}</td><td>${escapeHtml(f.error)}</td></tr>`)
    .join('');
  return `<table class="failures"><tr><th>when</th><th>run</th><th>error</th></tr>${rows}</table>`;
}

function sectionHtml(t: ReportTable, i: number): string {
  const last = t.runs[t.runs.length - 1];
  const wm = t.watermark ? `${t.watermark.ts ?? '–'} / ${t.watermark.id ?? '–'}` : 'none';
  const meta = `pipeline ${escapeHtml(t.pipeline)} · ${escapeHtml(t.strategy)} · watermark ${escapeHtml(wm)} · ${t.runs.length} run(s)${last ? ` · last ${escapeHtml(last.status)} ${escapeHtml(last.startedAt)}` : ''}`;
  const chart = (kind: string, caption: string) =>
    `<figure><figcaption>${caption}</figcaption><div class="chart"><canvas data-table="${i}" data-chart="${kind}" aria-label="${caption}"></canvas></div></figure>`;
  const charts =
    t.runs.length === 0
      ? '<p class="note">no runs yet</p>'
      : `<div class="charts">${
          t.lag.length > 0 ? chart('lag', 'Lag behind the source at each commit') : ''
        }${chart('rows', 'Rows per run')}${chart('steps', 'Run duration by step (seconds)')}</div>${
          t.lagNote ? `<p class="note">lag: ${escapeHtml(t.lagNote)}</p>` : ''
        }`;
  return `<section data-table="${i}"><h2>${escapeHtml(t.table)}</h2><p class="meta">${meta}</p>${charts}
<h3>Failures</h3>${failuresHtml(t)}<h3>Last verification</h3>${verificationHtml(t)}</section>`;
}

/**
 * The page's own script: one chart per canvas, drawn at once (no animation), from the inline data. `window.hwCharts`
 * lists them (the end-to-end test and anyone curious can look).
 */
const CLIENT = `
(function () {
  var data = JSON.parse(document.getElementById('hw-data').textContent);
  var colors = { plan: '#8e7cc3', extract: '#3d85c6', load: '#e69138', commit: '#6aa84f' };
  var status = { committed: '#3d85c6', cleaned: '#3d85c6', staged: '#8e7cc3', failed: '#c62828' };
  // Axis labels: month-day hour:minute (UTC); the full instant is in the tooltip.
  function when(iso) { return iso ? iso.slice(5, 16).replace('T', ' ') : ''; }
  function full(iso) { return iso ? iso.replace('T', ' ').replace(/\\.\\d+Z$/, ' UTC') : ''; }
  function human(s) {
    if (s < 120) return Math.round(s) + ' s';
    if (s < 7200) return Math.round(s / 60) + ' min';
    return (s / 3600).toFixed(1) + ' h';
  }
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  window.hwCharts = [];
  document.querySelectorAll('canvas[data-chart]').forEach(function (canvas) {
    var t = data.tables[Number(canvas.dataset.table)];
    var labels = t.runs.map(function (r) { return when(r.startedAt); });
    var config;
    if (canvas.dataset.chart === 'lag') {
      config = {
        type: 'line',
        data: { labels: t.lag.map(function (p) { return when(p.at); }),
          datasets: [{ label: 'lag (s)', data: t.lag.map(function (p) { return p.seconds; }), borderColor: '#c62828',
            backgroundColor: '#c62828', pointRadius: 3, tension: 0 }] },
        options: { plugins: { legend: { display: false }, tooltip: { callbacks: {
          title: function (items) { return full(t.lag[items[0].dataIndex].at); },
          label: function (c) { return human(c.parsed.y); } } } },
          scales: { y: { beginAtZero: true, ticks: { callback: function (v) { return human(v); } } } } }
      };
    } else if (canvas.dataset.chart === 'rows') {
      // A failed run read nothing that counts: it shows as a short red bar, so it is seen among the others.
      var most = Math.max.apply(null, t.runs.map(function (r) { return r.rowsExtracted; }).concat([1]));
      config = {
        type: 'bar',
        data: { labels: labels, datasets: [
          { label: 'rows read', data: t.runs.map(function (r) { return r.status === 'failed' ? null : r.rowsExtracted; }),
            backgroundColor: t.runs.map(function (r) { return status[r.status] || '#999'; }) },
          { label: 'failed', backgroundColor: status.failed,
            data: t.runs.map(function (r) { return r.status === 'failed' ? Math.max(1, most * 0.04) : null; }) }
        ] },
        options: { plugins: { tooltip: { callbacks: {
          title: function (items) { return full(t.runs[items[0].dataIndex].startedAt); },
          label: function (c) { var r = t.runs[c.dataIndex];
            return r.status === 'failed' ? 'failed: ' + (r.error || '') : r.rowsExtracted + ' rows, ' + r.status; } } } },
          scales: { x: { stacked: true }, y: { beginAtZero: true } } }
      };
    } else {
      config = {
        type: 'bar',
        data: { labels: labels, datasets: ['plan', 'extract', 'load', 'commit'].map(function (step) {
          return { label: step, backgroundColor: colors[step], data: t.runs.map(function (r) {
            var s = r.steps[step]; return s && s.durationMs !== null ? s.durationMs / 1000 : 0; }) };
        }) },
        options: { plugins: { tooltip: { callbacks: {
          title: function (items) { return full(t.runs[items[0].dataIndex].startedAt) + ' (' + t.runs[items[0].dataIndex].status + ')'; } } } },
          scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } }
      };
    }
    window.hwCharts.push(new Chart(canvas, config));
  });
})();`;

export function renderReportHtml(data: ReportData, chartJs: string = chartJsSource()): string {
  const sections = data.tables.length
    ? data.tables.map(sectionHtml).join('\n')
    : '<section><p class="note">no tables with runs: sync one first (<code>highwater sync -t schema.table</code>)</p></section>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Highwater report ${escapeHtml(data.generatedAt)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>Highwater report</h1><p>generated ${escapeHtml(data.generatedAt)} from ${escapeHtml(data.home)} · ${data.tables.length} table(s)</p></header>
<main>
${sections}
</main>
<script id="hw-data" type="application/json">${scriptJson(data)}</script>
<script>${chartJs}</script>
<script>${CLIENT}</script>
</body>
</html>
`;
}
