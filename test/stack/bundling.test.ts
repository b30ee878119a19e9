/**
 * Real bundling (local esbuild, no Docker) of the extract function: the asset must hold everything the Lambda
 * loads at run time — the ESM handler as index.js, the Parquet encode worker, parquet-wasm with its .wasm, Arrow,
 * and the pipeline YAML — and nothing local-only.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DuckDBInstance } from '@duckdb/node-api';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnSpec, FromWorker, ToWorker } from '../../lambdas/adapters/parquet/protocol.js';
import { HighwaterFunction, LOCAL_ONLY_MODULES } from '../../lib/constructs/highwater-function.js';
import { projectRoot } from './build-app.js';

let assetDir: string;
let outdir: string;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'hw-bundle-'));
  const app = new App({ outdir, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Bundle', { env: { account: '123456789012', region: 'us-east-1' } });
  new HighwaterFunction(stack, 'Extract', {
    entry: 'lambdas/functions/extract.ts',
    projectRoot,
    configDir: join(projectRoot, 'pipelines'),
    parquetWorker: true,
  });
  const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0]!;
  const key = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
  assetDir = join(outdir, `asset.${key}`);
}, 120_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('extract function bundle', () => {
  it('is an ESM index.js (so the encoder finds encode-worker.js beside it)', () => {
    expect(existsSync(join(assetDir, 'index.js'))).toBe(true);
    expect(existsSync(join(assetDir, 'index.mjs'))).toBe(false);
    expect(JSON.parse(readFileSync(join(assetDir, 'package.json'), 'utf8'))).toEqual({ type: 'module' });
    expect(existsSync(join(assetDir, 'encode-worker.js'))).toBe(true);
  });

  it("resolves the worker's parquet-wasm (with its wasm) and its part of Arrow from the bundle alone", () => {
    const req = createRequire(join(assetDir, 'encode-worker.js'));
    expect(req.resolve('parquet-wasm')).toBe(join(assetDir, 'node_modules', 'parquet-wasm', 'index.js'));
    expect(existsSync(join(assetDir, 'node_modules', 'parquet-wasm', 'parquet_wasm_bg.wasm'))).toBe(true);
    const pw = req('parquet-wasm') as { writeParquet?: unknown };
    expect(typeof pw.writeParquet).toBe('function');
    // Arrow: the subset the worker uses, beside it (where it looks first), and not the whole package.
    const arrow = req('./arrow.cjs') as Record<string, unknown>;
    for (const name of ['makeData', 'tableToIPC', 'RecordBatch', 'Schema', 'TimestampMicrosecond'])
      expect(typeof arrow[name], name).toBe('function');
    expect(arrow.tableFromArrays).toBeUndefined();
    expect(existsSync(join(assetDir, 'node_modules', 'apache-arrow'))).toBe(false);
    // The worker bundle itself carries no other package import.
    const worker = readFileSync(join(assetDir, 'encode-worker.js'), 'utf8');
    expect([...worker.matchAll(/^import .* from "([^".][^"]*)";$/gm)].map((m) => m[1]).sort()).toEqual([
      'node:fs',
      'node:module',
      'node:url',
      'node:v8',
      'node:vm',
      'node:worker_threads',
    ]);
  });

  it('runs its encode worker from the asset alone: three rows in, a Parquet file DuckDB reads back out', async () => {
    const worker = new Worker(join(assetDir, 'encode-worker.js'));
    const chunks: Uint8Array[] = [];
    const done = new Promise<void>((resolve, reject) => {
      worker.on('error', reject);
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'bytes') chunks.push(m.chunk);
        if (m.type === 'finished') resolve();
        if (m.type === 'error') reject(new Error(m.message));
      });
    });
    const column: ColumnSpec = {
      name: 'id',
      kind: 'int32',
      nullable: false,
      precision: 0,
      scale: 0,
      utc: false,
      dictionary: false,
    };
    const open: ToWorker = { type: 'open', init: { columns: [column], compression: 'snappy', rowGroupRows: 1000 } };
    worker.postMessage(open);
    const values = new Int32Array([7, 8, 9]);
    const batch: ToWorker = {
      type: 'batch',
      batch: { length: 3, columns: [{ nullCount: 0, validity: null, values, offsets: null }] },
    };
    worker.postMessage(batch, [values.buffer]);
    worker.postMessage({ type: 'end' } satisfies ToWorker);
    try {
      await done;
    } finally {
      await worker.terminate();
    }
    const file = join(outdir, 'worker.parquet');
    writeFileSync(file, Buffer.concat(chunks));
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    const read = await duck.runAndReadAll(`SELECT sum(id)::INTEGER, count(*)::INTEGER FROM read_parquet('${file}')`);
    expect(read.getRows()).toEqual([[24, 3]]);
  });

  it('carries the pipeline YAML under config/, and no .env', () => {
    expect(readdirSync(join(assetDir, 'config')).sort()).toEqual(['connections.yml', 'pipelines']);
    expect(readdirSync(join(assetDir, 'config', 'pipelines')).sort()).toEqual([
      'default.yml',
      'local_dev.yml',
      'sales.yml',
    ]);
  });

  it('carries no local-only module: the Lambda runtime is built from the AWS adapter set alone', () => {
    const bundle = readFileSync(join(assetDir, 'index.js'), 'utf8');
    for (const m of LOCAL_ONLY_MODULES) expect(bundle, m).not.toContain(m);
    // …while the AWS adapters are in it.
    expect(bundle).toContain('@aws-sdk/client-dynamodb');
    expect(bundle).toContain('@aws-sdk/client-redshift-data');
  });

  it('carries the pinned AWS SDK itself: no import is left for the runtime’s own copy', () => {
    const bundle = readFileSync(join(assetDir, 'index.js'), 'utf8');
    // (esbuild's own require shim is __require; the SDK's error texts that mention require("@aws-sdk/…") do not count.)
    const imports = [...bundle.matchAll(/(?:\bfrom\s*|\bimport\(\s*|__require\(\s*)["'](@aws-sdk\/[^"']*)["']/g)].map(
      (m) => bundle.slice(Math.max(0, (m.index ?? 0) - 80), (m.index ?? 0) + 60),
    );
    expect(imports).toEqual([]);
    // The locked version's own code: esbuild marks each bundled file with its path (relative, wherever
    // node_modules really is).
    expect(bundle).toMatch(/^\/\/ \S*node_modules\/@aws-sdk\/client-s3\//m);
    const req = createRequire(join(projectRoot, 'package.json'));
    const version = (req('@aws-sdk/client-redshift-data/package.json') as { version: string }).version;
    expect(bundle).toContain(`"${version}"`);
  });

  it('holds no file of lambdas/local/ (the layout says what ships: everything in lambdas/ but local/)', () => {
    const bundle = readFileSync(join(assetDir, 'index.js'), 'utf8');
    // esbuild marks each bundled source file with a `// path` comment.
    expect(bundle).toMatch(/\/\/ lambdas\/handlers\/extract\.ts/);
    expect(bundle).not.toMatch(/\/\/ lambdas\/local\//);
  });
});
