/**
 * Crash trials: `highwater sync` is killed with SIGKILL at random moments — during planning, mid-extraction, right
 * after the last chunk is extracted, right after the load — 20 times, each after a round of inserts and updates
 * at the source; every kill is followed by one plain rerun, after which the warehouse must equal MySQL row for
 * row. The moments come from a seeded generator, printed with any failure so a trial can be replayed.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runCliAsync, spawnCli } from '../support/cli.js';
import { createHarness, type Harness } from '../support/harness.js';

const TRIALS = 20;
const ROWS = 12_000;
const SEED = Number(process.env.HW_CRASH_SEED ?? 20261203);

let h: Harness;
let t: string;

/** mulberry32: a small seeded generator, so a failing schedule can be run again. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const args = (...rest: string[]) => ['--config-dir', h.configDir, '--home', h.home, ...rest];

beforeAll(async () => {
  h = await createHarness('crash');
  t = `${h.db.database}.items`;
  await h.db.conn.query(
    'CREATE TABLE items (id BIGINT PRIMARY KEY, label VARCHAR(40) NOT NULL, updated_at DATETIME NOT NULL, KEY (updated_at, id))',
  );
  await h.db.conn.query(
    `INSERT INTO items SELECT seq, CONCAT('row ', seq), '2024-01-01 00:00:00' + INTERVAL (seq % 1000) SECOND FROM seq_1_to_${ROWS}`,
  );
  h.writePipeline(`  ${t}:\n    chunk_rows: 2000`, { leaseSeconds: 3600 });
});
afterAll(async () => h?.cleanup());

/** Source and warehouse as one digest over every row. */
async function digests(): Promise<{ source: string; warehouse: string; rows: [number, number] }> {
  const hash = (lines: string[]) => createHash('sha256').update(lines.join('\n')).digest('hex');
  const [src] = (await h.db.conn.query(
    "SELECT CONCAT(id, '|', label, '|', DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s')) AS line FROM items ORDER BY id",
  )) as unknown as [{ line: string }[]];
  const wh = await h.warehouseRows('public.items', 'id');
  const whLines = wh.map((r) => `${String(r.id)}|${String(r.label)}|${String(r.updated_at).slice(0, 19)}`);
  return { source: hash(src.map((r) => r.line)), warehouse: hash(whLines), rows: [src.length, wh.length] };
}

type Moment = { kind: 'random'; ms: number } | { kind: 'planned' | 'extracted' | 'loaded' };

/** Runs sync and SIGKILLs it at `moment`; resolves with what it printed and whether the kill landed. */
async function syncKilledAt(moment: Moment): Promise<{ killed: boolean; stderr: string }> {
  const child = spawnCli(args('sync', '-p', 'test', '-t', t), { cwd: h.dir });
  let stderr = '';
  child.stdout.resume();
  const exited = once(child, 'exit');
  const kill = () => child.kill('SIGKILL');
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (moment.kind === 'planned' && /run \S+, \d+ chunks?/.test(stderr)) kill();
    if (moment.kind === 'extracted' && /(\d+)\/\1 chunks/.test(stderr)) kill();
    if (moment.kind === 'loaded' && /load: [\d,]+ rows loaded/.test(stderr)) kill();
  });
  const timer = moment.kind === 'random' ? setTimeout(kill, moment.ms) : undefined;
  const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
  if (timer) clearTimeout(timer);
  return { killed: signal === 'SIGKILL' || code === null, stderr };
}

test(`${TRIALS} SIGKILLs at random moments, each followed by one plain rerun, leave the warehouse equal to MySQL`, async () => {
  const first = await runCliAsync(args('sync', '-p', 'test', '-t', t), { cwd: h.dir });
  expect(first.code, first.err).toBe(0);
  const random = generator(SEED);
  const kinds = ['planned', 'extracted', 'loaded'] as const;
  const log: string[] = [];
  let landed = 0;
  for (let trial = 1; trial <= TRIALS; trial++) {
    // A round of changes: new rows, and updates of random rows, all well below the commit horizon.
    const from = ROWS + (trial - 1) * 300 + 1;
    await h.db.conn.query(
      `INSERT INTO items SELECT seq, CONCAT('new ', seq), '2024-02-01 00:00:00' + INTERVAL ${trial} MINUTE + INTERVAL (seq % 7) SECOND FROM seq_${from}_to_${from + 299}`,
    );
    await h.db.conn.query(
      `UPDATE items SET label = CONCAT('trial ${trial} ', id), updated_at = '2024-02-01 00:00:00' + INTERVAL ${trial} MINUTE WHERE MOD(id * ${trial}, 97) = ${Math.floor(random() * 97)}`,
    );
    const moment: Moment =
      trial % 4 === 0
        ? { kind: 'random', ms: 200 + Math.floor(random() * 2500) }
        : { kind: kinds[Math.floor(random() * kinds.length)]! };
    const crash = await syncKilledAt(moment);
    if (crash.killed) landed++;
    const rerun = await runCliAsync(args('sync', '-p', 'test', '-t', t), { cwd: h.dir });
    const d = await digests();
    log.push(
      `trial ${trial}: killed at ${JSON.stringify(moment)} (${crash.killed ? 'killed' : 'had finished'}); rerun exit ${rerun.code}`,
    );
    const context = `seed ${SEED}\n${log.join('\n')}\n--- killed run stderr ---\n${crash.stderr}\n--- rerun ---\n${rerun.err}`;
    expect(rerun.code, context).toBe(0);
    expect(d.rows[1], context).toBe(d.rows[0]);
    expect(d.warehouse, context).toBe(d.source);
  }
  // The schedule must really kill runs, not only watch them finish.
  expect(landed).toBeGreaterThanOrEqual(Math.ceil(TRIALS * 0.6));
  // 20 kills and 20 reruns of a real CLI: about two minutes alone, more beside the rest of the suite on two cores.
}, 480_000);
