/**
 * Extract benchmark: a private MariaDB with an N-row, 12-column table, then
 *   (a) the raw mysql2 stream of the rows (objects, `for await`), the ceiling any extract can reach;
 *   (b) one extract: createMysqlSource().stream → writeParquet → a file, in a child process so its peak RSS is
 *       its own.
 * Prints rows/s, peak RSS and the ratio b/a and writes bench-results/bench.json. Each measurement is one
 * function returning a Measurement; add more (e.g. a full local sync) to `measurements` below.
 *
 *   npx tsx scripts/bench.ts            # 1,000,000 rows
 *   BENCH_ROWS=100000 npx tsx scripts/bench.ts
 *   BENCH_REPEAT=3 npx tsx scripts/bench.ts   # median of 3 runs per measurement
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import { createMysqlSource } from '../lambdas/adapters/mysql/index.js';
import { writeParquet } from '../lambdas/adapters/parquet/index.js';
import { loadConfig } from '../lambdas/engine/config/index.js';
import { mapColumns, selectExpression } from '../lambdas/engine/type-map.js';
import { runLocal } from '../lambdas/local/orchestration/local-runner.js';
import { createRuntime } from '../lambdas/local/runtime.js';
import { startMariaDb } from '../test/support/mariadb.js';

interface Server {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface Measurement {
  name: string;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  /** Peak RSS of the process that ran it, when measured in its own process. */
  peakRssMb?: number;
  fileBytes?: number;
}

const TABLE = 'orders';

async function createTable(server: Server, rows: number): Promise<number> {
  const conn = await mysqlPromise.createConnection({ ...server, multipleStatements: true });
  const t0 = performance.now();
  await conn.query(`
    CREATE TABLE ${TABLE} (
      id BIGINT NOT NULL PRIMARY KEY,
      customer_id INT NOT NULL,
      status VARCHAR(20) NOT NULL,
      email VARCHAR(100) NOT NULL,
      amount DECIMAL(15,4) NOT NULL,
      tax DECIMAL(15,4) NOT NULL,
      created_at DATETIME NOT NULL,
      updated_at DATETIME(3) NOT NULL,
      note TEXT NULL,
      payload JSON NOT NULL,
      is_active BOOLEAN NOT NULL,
      score DOUBLE NOT NULL
    ) ENGINE=InnoDB;
    INSERT INTO ${TABLE}
    SELECT seq + 9000000000, seq % 100000,
      ELT(1 + seq % 6, 'new', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'),
      CONCAT('customer', seq % 100000, '@example.com'),
      IF(seq % 20 = 0, -1, 1) * CAST((seq * 7919) % 100000000 AS SIGNED) / 10000,
      ((seq * 104729) % 1000000) / 10000,
      '2024-01-01 00:00:00' + INTERVAL (seq % 31536000) SECOND,
      '2024-06-01 00:00:00.000' + INTERVAL (seq * 1000 + seq % 1000) MICROSECOND,
      IF(seq % 10 < 3, NULL, CONCAT('note for order ', seq, ' — ünïcödé ✓')),
      CONCAT('{"sku":"SKU-', seq % 5000, '","qty":', seq % 7, ',"gift":', IF(seq % 2 = 0, 'true', 'false'), '}'),
      seq % 3 = 0,
      (seq % 1000) / 7
    FROM seq_1_to_${rows};`);
  const s = (performance.now() - t0) / 1000;
  await conn.end();
  return s;
}

function measurement(name: string, rows: number, seconds: number, extra: Partial<Measurement> = {}): Measurement {
  return { name, rows, seconds: round(seconds, 3), rowsPerSecond: Math.round(rows / seconds), ...extra };
}

function round(n: number, digits: number): number {
  return Math.round(n * 10 ** digits) / 10 ** digits;
}

/** (a) mysql2 with its default row decoding, read with `for await`: what any extract is compared against. */
async function rawMysql2Stream(server: Server): Promise<Measurement> {
  const conn = mysql.createConnection(server);
  const t0 = performance.now();
  let rows = 0;
  for await (const _row of conn.query(`SELECT * FROM ${TABLE}`).stream({ highWaterMark: 1000 })) rows++;
  const seconds = (performance.now() - t0) / 1000;
  await conn.promise().end();
  return measurement('a_raw_mysql2_stream', rows, seconds);
}

/** The body of (b), run in the child: one chunk's extract exactly as ExtractChunk does it. */
async function extractOnce(server: Server, file: string): Promise<Measurement> {
  const source = createMysqlSource(server);
  const t0 = performance.now();
  const schema = await source.describeTable(server.database, TABLE);
  const columns = mapColumns(`${server.database}.${TABLE}`, schema.columns);
  const sql = `SELECT ${columns.map(selectExpression).join(', ')} FROM ${TABLE}`;
  const result = await writeParquet(source.stream(sql), columns, createWriteStream(file));
  const seconds = (performance.now() - t0) / 1000;
  await source.close();
  return measurement('b_extract_to_parquet', result.rows, seconds, {
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    fileBytes: statSync(file).size,
  });
}

/**
 * The body of (c), run in the child: a full local sync of the table (single-connection mode, default chunking,
 * max_workers 2) — plan, parallel extracts to Parquet on disk, DuckDB load and merge, commit.
 */
async function syncOnce(server: Server, home: string): Promise<Measurement> {
  const env = {
    MYSQL_HOST: server.host,
    MYSQL_PORT: String(server.port),
    MYSQL_USER: server.user,
    MYSQL_PASSWORD: server.password,
    MYSQL_DATABASE: server.database,
  };
  const config = await loadConfig({ cwd: home, configDir: join(home, 'no-config'), home, env });
  const rt = createRuntime(config, env);
  const t0 = performance.now();
  try {
    const report = await runLocal(rt, {
      pipeline: 'default',
      tables: [`${server.database}.${TABLE}`],
      options: { maxWorkers: 2 },
    });
    const t = report.tables[0]!;
    if (report.status !== 'success') throw new Error(`sync failed: ${t.error}`);
    return measurement('c_full_local_sync', t.rowsLoaded, (performance.now() - t0) / 1000, {
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      fileBytes: t.bytes ?? undefined,
    });
  } finally {
    await rt.close();
  }
}

/** Runs one measurement body in a fresh process (same tsx loader flags), so its peak RSS is its own. */
async function inChild(mode: string, arg: unknown): Promise<Measurement> {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [...process.execArgv, self, mode, JSON.stringify(arg)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`${mode} child exited with ${code}: ${out}`);
  return JSON.parse(out.trim().split('\n').pop()!) as Measurement;
}

/** (b) in its own process, so (a)'s memory does not count against its peak RSS. */
function extractInChild(server: Server, dir: string): Promise<Measurement> {
  return inChild('extract-child', { server, file: join(dir, 'extract.parquet') });
}

function median(ms: Measurement[]): Measurement {
  const sorted = [...ms].sort((x, y) => x.seconds - y.seconds);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function repeat(times: number, fn: () => Promise<Measurement>): Promise<Measurement> {
  const runs: Measurement[] = [];
  for (let i = 0; i < times; i++) {
    const m = await fn();
    console.log(`  ${m.name}: ${m.rows} rows in ${m.seconds} s = ${m.rowsPerSecond} rows/s`);
    runs.push(m);
  }
  return median(runs);
}

async function main(): Promise<void> {
  const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
  const times = Number(process.env.BENCH_REPEAT ?? 1);
  const maria = await startMariaDb();
  const dir = mkdtempSync(join(tmpdir(), 'hw-bench-'));
  try {
    const admin = await mysqlPromise.createConnection({ host: maria.host, port: maria.port, user: maria.user });
    await admin.query('CREATE DATABASE bench CHARACTER SET utf8mb4');
    await admin.end();
    const server: Server = {
      host: maria.host,
      port: maria.port,
      user: maria.user,
      password: maria.password,
      database: 'bench',
    };
    console.log(`loading ${rows} rows…`);
    const loadSeconds = await createTable(server, rows);
    console.log(`  loaded in ${round(loadSeconds, 1)} s`);

    // One entry per measurement; a later one (e.g. "c_full_local_sync") is one more line here.
    const measurements: Record<string, () => Promise<Measurement>> = {
      a: () => rawMysql2Stream(server),
      b: () => extractInChild(server, dir),
      c: () => inChild('sync-child', { server, home: mkdtempSync(join(dir, 'home-')) }),
    };
    const results: Record<string, Measurement> = {};
    for (const [key, fn] of Object.entries(measurements)) results[key] = await repeat(times, fn);

    const a = results.a!;
    const b = results.b!;
    const c = results.c!;
    const ratio = round(b.rowsPerSecond / a.rowsPerSecond, 3);
    const report = {
      date: new Date().toISOString(),
      node: process.version,
      rows,
      repeat: times,
      loadSeconds: round(loadSeconds, 2),
      results,
      ratioExtractToRawStream: ratio,
      ratioSyncToRawStream: round(c.rowsPerSecond / a.rowsPerSecond, 3),
      goals: { ratio: 0.6, peakRssMb: 300 },
      met: ratio >= 0.6 && (b.peakRssMb ?? Number.POSITIVE_INFINITY) <= 300,
    };
    console.log(`(a) raw mysql2 stream: ${a.rowsPerSecond} rows/s`);
    console.log(`(b) extract → Parquet: ${b.rowsPerSecond} rows/s, peak RSS ${b.peakRssMb} MB, file ${b.fileBytes} B`);
    console.log(
      `(c) full local sync: ${c.rowsPerSecond} rows/s, peak RSS ${c.peakRssMb} MB, ratio c/a = ${report.ratioSyncToRawStream}`,
    );
    console.log(`ratio b/a = ${ratio} (goal ≥ 0.6); goals ${report.met ? 'met' : 'NOT met'}`);
    mkdirSync('bench-results', { recursive: true });
    writeFileSync('bench-results/bench.json', `${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await maria.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'sync-child') {
  const { server, home } = JSON.parse(process.argv[3]!) as { server: Server; home: string };
  const m = await syncOnce(server, home);
  process.stdout.write(`${JSON.stringify(m)}\n`);
} else if (process.argv[2] === 'extract-child') {
  const { server, file } = JSON.parse(process.argv[3]!) as { server: Server; file: string };
  const m = await extractOnce(server, file);
  process.stdout.write(`${JSON.stringify(m)}\n`);
} else {
  await main();
}
