/**
 * Watching a sync and looking at what it did, as a user does: a spawned CLI on the harness's multi-connection config
 * (private MariaDB, local staging, SQLite ledger, DuckDB). One history is built — two committed syncs (the first
 * piped, its progress lines asserted; the second with --json, silent), one that fails on staging, one verification —
 * and then `runs`, `query` and `report` are read from it; the report is opened in headless Chromium.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { displayWidth } from '../../bin/cli/display-width.js';
import type { RunView } from '../../lambdas/local/engine/run-history.js';
import { createHarness, type Harness } from '../support/harness.js';
import { type PipelineCli, pipelineCli } from '../support/pipeline-cli.js';

let h: Harness;
let cli: PipelineCli;
let orders: string;

/** Every file under a directory, recursively (relative paths). */
function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => join(d.parentPath, d.name).slice(dir.length + 1));
  } catch {
    return [];
  }
}

const rows = (from: number, n: number, ts: string) =>
  Array.from({ length: n }, (_, i) => `(${from + i}, '注文-${from + i}', ${(from + i) / 4}, '${ts}')`).join(',');

beforeAll(async () => {
  h = await createHarness('results');
  cli = pipelineCli(() => h);
  orders = cli.fq('orders');
  await h.db.conn.query(
    `CREATE TABLE orders (id INT PRIMARY KEY, label VARCHAR(40) NOT NULL, amount DECIMAL(10,2) NOT NULL,
       updated_at DATETIME NOT NULL);
     INSERT INTO orders VALUES (1, 'say "hi", 注文', 0.25, '2024-01-01 00:00:00'), ${rows(2, 2499, '2024-01-01 00:00:01')};`,
  );
  cli.configure('orders', 'cdc_strategy: hybrid\nchunk_rows: 1000');
}, 120_000);
afterAll(async () => h?.cleanup());

test('piped, a sync prints one plain line per step and chunk: rows against the estimate, rate, elapsed, ETA', async () => {
  const r = cli.hw('sync', '-p', 'test', '-t', orders);
  expect(r.code, r.err).toBe(0);
  expect(r.err).not.toContain('\u001b');
  const lines = r.err.split('\n').filter((l) => l.startsWith(`${orders}: `));
  const body = lines.map((l) => l.slice(orders.length + 2));
  expect(body[0]).toBe('plan: started');
  expect(body[1]).toMatch(/^plan: run \d{8}T\d{9}Z-[0-9a-f]{8}, 3 chunks, about 2,500 rows \(\d+\.\ds\)$/);
  const chunks = body.filter((l) => l.startsWith('extract: '));
  expect(chunks).toHaveLength(3);
  for (const [i, c] of chunks.entries()) {
    expect(c).toMatch(
      new RegExp(
        `^extract: chunk [0-2] done \\((1,000|500) rows\\); ${i + 1}/3 chunks, [\\d,]+/2,500 rows \\d+%  [\\d,.–]+ rows/s  elapsed [\\dms.]+  ETA [\\dms.–]+$`,
      ),
    );
  }
  expect(chunks[2]).toMatch(/3\/3 chunks, 2,500\/2,500 rows 100% .* ETA 0\.0s$/);
  expect(body.slice(5)).toEqual([
    expect.stringMatching(/^load: started, 2,500 rows extracted in [\dms.]+$/),
    expect.stringMatching(/^load: 2,500 rows loaded \(2,500 staged\) in [\dms.]+$/),
    expect.stringMatching(/^commit: committed, [\dms.]+ in all$/),
    // Local staging stays bounded: the committed run's three chunks and its manifest are gone.
    expect.stringMatching(/^staging: removed 4 files \([\d.]+ kB\) of 1 committed run$/),
  ]);
  expect(filesUnder(join(h.home, 'staging'))).toEqual([]);
});

test('with --json a sync prints no progress at all: the report on stdout is the only output', async () => {
  await h.db.conn.query(`INSERT INTO orders VALUES ${rows(2501, 500, '2024-01-02 00:00:00')}`);
  const r = cli.hw('sync', '-p', 'test', '-t', orders, '--json');
  expect(r.code, r.err).toBe(0);
  expect(JSON.parse(r.out).tables[0]).toMatchObject({ status: 'committed', rowsLoaded: 500 });
  expect(r.err).toBe('');
});

test('a run that fails on staging is recorded failed; verify records a verification', async () => {
  await h.db.conn.query(`INSERT INTO orders VALUES ${rows(3001, 10, '2024-01-03 00:00:00')}`);
  const staging = join(h.home, 'staging');
  renameSync(staging, `${staging}.away`);
  writeFileSync(staging, 'a file where the staging directory should be');
  const failed = cli.hw('sync', '-p', 'test', '-t', orders);
  rmSync(staging);
  renameSync(`${staging}.away`, staging);
  expect(failed.code, failed.err).toBe(5);
  const v = cli.hw('verify', '-p', 'test', '-t', orders);
  expect(v.code, v.out + v.err).toBe(0);
});

test('runs: the history newest first with rows, size and each step’s time; --json carries steps, chunks and errors', () => {
  const text = cli.hw('runs', '-p', 'test');
  expect(text.code, text.err).toBe(0);
  const lines = text.out.split('\n');
  expect(lines[0]).toMatch(
    /^started \(UTC\)\s+table\s+status\s+read\s+loaded\s+size\s+plan\s+extract\s+load\s+commit\s+total$/,
  );
  const main = lines.filter((l) => /^\d{4}-\d\d-\d\d /.test(l));
  expect(main).toHaveLength(3);
  expect(main[0]).toMatch(
    new RegExp(`^\\S+ \\S+\\s+${orders}\\s+failed\\s+0\\s+–\\s+0 B\\s+[\\d.]+s\\s+–\\s+–\\s+–\\s+[\\d.ms]+$`),
  );
  // The runs stay committed once their staged files are removed.
  expect(main[1]).toMatch(/\scommitted\s+500\s+500\s+[\d.]+ kB(\s+[\d.ms]+){5}$/);
  expect(main[2]).toMatch(/\scommitted\s+2,500\s+2,500\s+[\d.]+ kB(\s+[\d.ms]+){5}$/);
  // Numbers are right-aligned: the columns of the three runs end at the same place.
  expect(new Set(main.map((l) => displayWidth(l)))).toHaveProperty('size', 1);
  expect(text.out).toMatch(/ {2}run \S+: 3 chunks, extract [\d.ms]+–[\d.ms]+ per chunk \(median [\d.ms]+\)/);
  expect(text.out).toContain('  error: StagingError');

  const json = cli.hw('runs', '-p', 'test', '-t', orders, '--last', '2', '--chunks', '--json');
  expect(json.code, json.err).toBe(0);
  const runs = (JSON.parse(json.out) as { runs: RunView[] }).runs;
  expect(runs.map((r) => r.status)).toEqual(['failed', 'committed']);
  const [fail, second] = runs as [RunView, RunView];
  expect(fail).toMatchObject({ pipeline: 'test', table: orders, kind: 'sync', rowsExtracted: 0, rowsLoaded: null });
  expect(fail.error).toMatch(/^StagingError/);
  expect(fail.steps.plan?.durationMs).toBeGreaterThanOrEqual(0);
  expect(fail.steps.load).toBeNull();
  expect(second).toMatchObject({ rowsExtracted: 500, rowsLoaded: 500, plannedChunks: 1 });
  for (const step of ['plan', 'extract', 'load', 'commit'] as const) {
    expect(second.steps[step]?.durationMs, step).toBeGreaterThanOrEqual(0);
    expect(Date.parse(second.steps[step]!.startedAt)).toBeGreaterThanOrEqual(Date.parse(second.startedAt));
  }
  expect(Date.parse(second.steps.commit!.finishedAt!)).toBe(Date.parse(second.finishedAt!));
  expect(second.durationMs).toBe(Date.parse(second.finishedAt!) - Date.parse(second.startedAt));
  expect(second.chunks).toEqual([{ index: 0, rows: 500, bytes: second.bytes, durationMs: expect.any(Number) }]);
  expect(second.chunkStats).toMatchObject({ count: 1, timed: 1 });
});

test('query: a read-only text table (numbers right, CJK by display width), RFC 4180 CSV, JSON; writes refused', async () => {
  const sql = 'SELECT id, label, amount FROM public.orders ORDER BY id LIMIT 3';
  const text = cli.hw('query', '-p', 'test', sql);
  expect(text.code, text.err).toBe(0);
  const lines = text.out.trimEnd().split('\n');
  expect(lines).toEqual([
    'id  label           amount',
    ' 1  say "hi", 注文    0.25',
    ' 2  注文-2            0.50',
    ' 3  注文-3            0.75',
    '(3 rows)',
  ]);
  expect(new Set(lines.slice(0, 4).map((l) => displayWidth(l)))).toEqual(new Set([26]));

  const csv = cli.hw('query', '-p', 'test', sql, '--csv');
  expect(csv.code, csv.err).toBe(0);
  expect(csv.out).toBe('id,label,amount\r\n1,"say ""hi"", 注文",0.25\r\n2,注文-2,0.50\r\n3,注文-3,0.75\r\n');

  const json = cli.hw('query', '-p', 'test', 'SELECT id FROM public.orders ORDER BY id', '--json', '--max-rows', '2');
  expect(json.code, json.err).toBe(0);
  expect(JSON.parse(json.out)).toEqual({
    columns: [{ name: 'id', type: 'INTEGER' }],
    rows: [[1], [2]],
    rowCount: 2,
    truncated: true,
  });
  expect(json.err).toContain('only the first 2 row(s) are shown; more follow');

  const write = cli.hw('query', '-p', 'test', 'DELETE FROM public.orders');
  expect(write.code).toBe(1);
  expect(write.err).toContain('read-only');
  const bad = cli.hw('query', '-p', 'test', 'SELEC 1');
  expect(bad.code).toBe(1);
  expect(bad.err).toContain('Parser Error: syntax error at or near "SELEC"');
  const count = (await h.warehouseRows('public.orders', 'id')).length;
  expect(count).toBe(3000);
});

/**
 * Runs in the page: every canvas, whether Chart.js has a chart on it, and how many of its pixels are painted. (A
 * string, so this Node-side file needs no DOM types.)
 */
const IN_PAGE_CHECK = `(() => {
  const canvases = [...document.querySelectorAll('canvas')];
  const blank = [];
  let withChart = 0;
  for (const c of canvases) {
    if (window.Chart && window.Chart.getChart(c)) withChart++;
    const ctx = c.getContext('2d');
    const pixels = ctx && c.width > 0 ? ctx.getImageData(0, 0, c.width, c.height).data : [];
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
    if (painted < 50) blank.push(c.dataset.table + '/' + c.dataset.chart);
  }
  return { canvases: canvases.length, withChart, charts: (window.hwCharts || []).length, blank };
})()`;

/**
 * Opens a report in headless Chromium with the network closed and says what went wrong: charts missing or blank,
 * console errors, requests that left the page. An empty list is a page whose every chart rendered.
 */
async function checkReport(file: string): Promise<{ problems: string[]; charts: number; canvases: number }> {
  const profile = join(h.dir, `chromium-${Date.now()}`);
  mkdirSync(profile);
  // Debian's chromium on a fresh profile; the machine's network is closed, and the page must not need it.
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const problems: string[] = [];
  try {
    const page = await browser.newPage();
    const url = pathToFileURL(file).href;
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      if (r.url() !== url) problems.push(`request: ${r.url()}`);
    });
    await page.goto(url, { waitUntil: 'load' });
    const seen = (await page.evaluate(IN_PAGE_CHECK)) as {
      canvases: number;
      withChart: number;
      charts: number;
      blank: string[];
    };
    if (seen.withChart !== seen.canvases) problems.push(`${seen.canvases - seen.withChart} canvas(es) without a chart`);
    for (const b of seen.blank) problems.push(`blank chart ${b}`);
    return { problems, charts: seen.charts, canvases: seen.canvases };
  } finally {
    await browser.close();
  }
}

test('report: one self-contained page; in Chromium every chart is drawn, nothing is fetched, no console error', async () => {
  const file = join(h.dir, 'out', 'report.html');
  mkdirSync(join(h.dir, 'out'));
  const r = cli.hw('report', '-o', file);
  expect(r.code, r.err).toBe(0);
  expect(r.out.trim()).toBe(file);
  const html = readFileSync(file, 'utf8');
  // Self-contained: no URL to load anything from, Chart.js and the data inline, a policy that forbids fetching.
  expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
  expect(html).toContain("default-src 'none'");
  expect(html).toContain('Chart.js v4.6.2');
  expect(html).toContain(`<h2>${orders}</h2>`);
  expect(html).toContain('StagingError');
  expect(html).toMatch(/equal to the source<\/span>; 3000 rows in the source, 3000 in the warehouse/);

  const good = await checkReport(file);
  expect(good.problems).toEqual([]);
  // Lag, rows and step times for the one table.
  expect(good).toMatchObject({ charts: 3, canvases: 3 });

  // The check itself can fail: without Chart.js the same page shows errors and undrawn canvases.
  const broken = join(h.dir, 'out', 'broken.html');
  writeFileSync(broken, html.replace(/<script>\/\*!\n \* Chart\.js[\s\S]*?<\/script>/, '<script></script>'));
  const bad = await checkReport(broken);
  expect(bad.problems).toEqual(
    expect.arrayContaining([expect.stringMatching(/Chart is not defined/), '3 canvas(es) without a chart']),
  );
});
