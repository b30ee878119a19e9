/**
 * The encode worker must also load from compiled JavaScript (what `npm run build` emits into dist/): compile the
 * writer with tsc into a scratch folder under node_modules/.cache (so packages resolve), run it with plain node,
 * and read the file back with DuckDB.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, expect, test } from 'vitest';

const run = promisify(execFile);
const root = process.cwd();
let outDir: string | undefined;

afterAll(async () => {
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

test('writeParquet compiled to JS runs its encode-worker.js under plain node', { timeout: 180_000 }, async () => {
  const cache = join(root, 'node_modules', '.cache');
  await mkdir(cache, { recursive: true });
  outDir = await mkdtemp(join(cache, 'hw-parquet-dist-'));
  await run(
    process.execPath,
    [
      join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
      'lambdas/adapters/parquet/index.ts',
      // Nothing imports the worker statically; tsconfig.build.json compiles it because it includes all of lambdas/.
      'lambdas/adapters/parquet/encode-worker.ts',
      'lambdas/engine/type-map.ts',
      ...['--outDir', outDir, '--rootDir', '.', '--module', 'NodeNext', '--moduleResolution', 'NodeNext'],
      ...['--target', 'ES2022', '--skipLibCheck', '--esModuleInterop', '--types', 'node', '--strict'],
    ],
    { cwd: root },
  );
  expect(existsSync(join(outDir, 'lambdas/adapters/parquet/encode-worker.js'))).toBe(true);

  const file = join(outDir, 'out.parquet');
  const script = `
    import { createWriteStream } from 'node:fs';
    import { writeParquet } from ${JSON.stringify(join(outDir, 'lambdas/adapters/parquet/index.js'))};
    import { mapColumns } from ${JSON.stringify(join(outDir, 'lambdas/engine/type-map.js'))};
    const columns = mapColumns('t', [
      { name: 'id', dataType: 'bigint', columnType: 'bigint(20)', nullable: false, charMaxLength: null,
        numericPrecision: 19, numericScale: 0, ordinal: 1 },
      { name: 'amount', dataType: 'decimal', columnType: 'decimal(15,4)', nullable: true, charMaxLength: null,
        numericPrecision: 15, numericScale: 4, ordinal: 2 },
    ]);
    async function* rows() {
      for (let i = 1; i <= 20000; i++) yield [Buffer.from(String(i)), Buffer.from((i % 2 ? '-' : '') + i + '.0001')];
    }
    const r = await writeParquet(rows(), columns, createWriteStream(${JSON.stringify(file)}), { rowGroupRows: 5000 });
    console.log(JSON.stringify(r));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root });
  expect(JSON.parse(stdout.trim())).toMatchObject({ rows: 20000 });

  const duck = await (await DuckDBInstance.create(':memory:')).connect();
  const reader = await duck.runAndReadAll(
    `SELECT count(*)::INTEGER n, sum(amount)::VARCHAR s, (SELECT count(DISTINCT row_group_id)::INTEGER FROM parquet_metadata('${file}')) g FROM read_parquet('${file}')`,
  );
  // Σ ±(i + 0.0001): odd i negative → -10000 + 0 (the 0.0001s cancel pairwise).
  expect(reader.getRowObjectsJson()).toEqual([{ n: 20000, s: '10000.0000', g: 4 }]);
});
