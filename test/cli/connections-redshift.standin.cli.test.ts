/**
 * `highwater connections test/health/list` against Redshift targets, through the Redshift Data API stand-in
 * (test/support/redshift-data-standin: PostgreSQL underneath). Not real Redshift: what is tested is that the CLI
 * reaches the Data API with the target's settings and reports the hop.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { CLI_ARGS, NODE } from '../support/cli.js';
import { type FauxqsInstance, startFauxqs } from '../support/fauxqs.js';
import { freePort } from '../support/free-port.js';
import { type PostgresInstance, startPostgres } from '../support/postgres.js';
import { type RedshiftDataStandin, startRedshiftDataStandin } from '../support/redshift-data-standin/index.js';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:hw-redshift-AbCdEf';
const LEGACY_PASSWORD = 'Legacy-Redshift-Pw-55';

let pgServer: PostgresInstance;
let s3: FauxqsInstance;
let standin: RedshiftDataStandin;
let dir: string;
let closedPort: number;

/** Spawned without blocking: the stand-in answers from this process. */
function hw(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done) => {
    execFile(
      NODE,
      [...CLI_ARGS, ...args],
      {
        cwd: dir,
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          AWS_ACCESS_KEY_ID: 'HWDATAAPIKEY',
          AWS_SECRET_ACCESS_KEY: 'hw-data-api-secret-not-real',
        },
      },
      (error, stdout, stderr) => {
        done({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, out: stdout, err: stderr });
      },
    );
  });
}

beforeAll(async () => {
  [pgServer, s3] = await Promise.all([startPostgres(), startFauxqs()]);
  standin = await startRedshiftDataStandin({ connectionString: pgServer.connectionString, s3: s3.client });
  closedPort = await freePort();
  dir = mkdtempSync(join(tmpdir(), 'hw-conn-rs-'));
  mkdirSync(join(dir, 'config'));
  const target = (endpoint: string) => `      type: redshift
      database: postgres
      workgroup: hw-test
      secret_arn: ${SECRET_ARN}
      region: us-east-1
      endpoint: ${endpoint}`;
  writeFileSync(
    join(dir, 'config', 'connections.yml'),
    `connections:
  targets:
    redshift_wh:
${target(standin.endpoint)}
    redshift_down:
${target(`http://127.0.0.1:${closedPort}`)}
    redshift_legacy:
      type: redshift
      database: dev
      workgroup: hw-legacy
      host: old-cluster.example.com
      username: etl
      password: ${LEGACY_PASSWORD}
`,
  );
});

afterEach(() => standin.hangWhen(undefined));

afterAll(async () => {
  await standin?.stop();
  await s3?.stop();
  await pgServer?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('list --type redshift shows the workgroup and database of each target', async () => {
  const r = await hw('connections', 'list', '--type', 'redshift');
  expect(r.code, r.err).toBe(0);
  expect(r.out).toMatch(/redshift_wh\s+target redshift\s+workgroup hw-test\s+postgres\s+no/);
  expect(r.out).toMatch(/redshift_legacy\s+target redshift\s+workgroup hw-legacy\s+dev/);
});

test('test NAME runs SELECT 1 through the Data API (ExecuteStatement) and reports the server', async () => {
  const before = standin.sqlLog.length;
  const r = await hw('connections', 'test', 'redshift_wh');
  expect(r.code, r.out + r.err).toBe(0);
  expect(r.out).toMatch(
    /ok\s+redshift\s+workgroup hw-test\s+\d+ ms\s+Data API ExecuteStatement SELECT 1; server: PostgreSQL/,
  );
  expect(standin.sqlLog.slice(before)).toEqual(['SELECT 1 AS ok, version() AS version']);
  const exec = standin.requests.filter((q) => q.operation === 'ExecuteStatement').at(-1);
  expect(exec?.body).toMatchObject({ WorkgroupName: 'hw-test', Database: 'postgres', SecretArn: SECRET_ARN });
});

test('an unreachable Data API endpoint fails the redshift hop, exit 2', async () => {
  const r = await hw('connections', 'test', 'redshift_down', '--timeout', '3');
  expect(r.code).toBe(2);
  expect(r.out).toMatch(/FAILED\s+redshift\s+workgroup hw-test\s+/);
  expect(r.err).toContain('redshift_down (target redshift: redshift hop workgroup hw-test)');
});

test('a statement that never finishes is given up on at the deadline, exit 2', async () => {
  standin.hangWhen((sql) => sql.startsWith('SELECT 1 AS ok'));
  const r = await hw('connections', 'test', 'redshift_wh', '--timeout', '2');
  expect(r.code).toBe(2);
  expect(r.out).toMatch(/FAILED\s+redshift\s+workgroup hw-test\s+\d+ ms\s+.*(no answer within 2 s|timed out|cancel)/i);
});

test('health: the good target up, the unreachable one down, exit 2; info masks the legacy password', async () => {
  const r = await hw('connections', 'health', '--timeout', '3', '--json');
  expect(r.code).toBe(2);
  const probes = JSON.parse(r.out) as { connection: string; ok: boolean }[];
  expect(Object.fromEntries(probes.map((p) => [p.connection, p.ok]))).toMatchObject({
    redshift_wh: true,
    redshift_down: false,
  });
  const info = await hw('connections', 'info', 'redshift_legacy');
  expect(info.code).toBe(0);
  expect(info.out).toMatch(/host\s+old-cluster\.example\.com/);
  expect(info.out).toMatch(/password\s+\*\*\*/);
  expect(info.out + info.err).not.toContain(LEGACY_PASSWORD);
});
