/**
 * The migration guide's own command lines (migration-guide-v1.1.md), copied here verbatim and run in its order
 * through bash, as a user pastes them: `python -m src.cli.main` is replaced by `highwater` (a shim on PATH that
 * runs the built bin) and `settlement.table_name` by a real table of the private MariaDB. Every line must
 * succeed; lines whose output the guide promises (mode banners, "Available Database Connections", the mode check)
 * are checked for it. The Redshift target of the guide's "Manual Configuration" is the Data API stand-in over
 * PostgreSQL (Redshift is reached through the Data API here, so that one connection is written the Highwater way);
 * its MySQL source goes through a real OpenSSH bastion, as in the guide.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { type AwsStandins, startAwsStandins } from '../support/aws-standins.js';
import { CLI_ARGS, mysqlEnv, NODE, spawnAsync } from '../support/cli.js';
import { type SshdInstance, startSshd } from '../support/sshd.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';

let db: TestDatabase;
let bin: string;
let work: string;

/** The guide's line with its tool and example table replaced by ours, nothing else. */
function translate(line: string): string {
  return line
    .replaceAll('python -m src.cli.main', 'highwater')
    .replaceAll('settlement.table_name', `${db.database}.parcels`)
    .replaceAll('settlement.settlement_normal_delivery_detail', `${db.database}.settlement_normal_delivery_detail`)
    .replace(/-t table_name\b/, '-t parcels');
}

interface Ran {
  line: string;
  code: number | null;
  out: string;
  err: string;
}

/**
 * Runs one guide line in `cwd` with bash (pipes, `&&`, `2>/dev/null` work as pasted). Never blocks this process:
 * the S3 and Redshift Data API stand-ins answer from it.
 */
async function run(cwd: string, guideLine: string, env: Record<string, string> = {}): Promise<Ran> {
  const line = translate(guideLine);
  const r = await spawnAsync('bash', ['-c', line], {
    cwd,
    env: { PATH: `${bin}:${process.env.PATH}`, ...mysqlEnv(db), ...env },
  });
  return { line, ...r };
}

/** Runs each line and expects it to succeed; returns the results by guide line. */
async function runAll(cwd: string, lines: string[], env: Record<string, string> = {}): Promise<Map<string, Ran>> {
  const results = new Map<string, Ran>();
  for (const l of lines) {
    const r = await run(cwd, l, env);
    expect(r.code, `${r.line}\n${r.out}\n${r.err}`).toBe(0);
    results.set(l, r);
  }
  return results;
}

beforeAll(async () => {
  db = await createTestDatabase('guide');
  const rows = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i + 1)).join(',');
  await db.conn.query(`
    CREATE TABLE parcels (id INT PRIMARY KEY, tracking VARCHAR(20), amount DECIMAL(15,4), updated_at DATETIME NOT NULL);
    INSERT INTO parcels VALUES ${rows(250, (i) => `(${i}, 'TRK${i}', ${i}.5, '2024-03-0${1 + (i % 5)} 10:00:00')`)};
    CREATE TABLE settlement_normal_delivery_detail (id BIGINT PRIMARY KEY, fee DECIMAL(15,4), updated_at DATETIME NOT NULL);
    INSERT INTO settlement_normal_delivery_detail VALUES ${rows(40, (i) => `(${i}, ${i}.25, '2024-03-01 00:00:00')`)};
    CREATE TABLE customers (customer_id INT PRIMARY KEY, name VARCHAR(40), last_modified DATETIME NOT NULL, updated_at DATETIME NOT NULL);
    INSERT INTO customers VALUES ${rows(30, (i) => `(${i}, 'c${i}', '2024-02-0${1 + (i % 3)} 00:00:00', '2024-02-01 00:00:00')`)};
    CREATE TABLE orders (order_id INT PRIMARY KEY, customer_id INT, order_date DATETIME NOT NULL, created_at DATETIME NOT NULL);
    INSERT INTO orders VALUES ${rows(60, (i) => `(${i}, ${1 + (i % 30)}, '2024-02-1${i % 10} 00:00:00', '2024-02-10 00:00:00')`)};
    CREATE TABLE products (product_id INT PRIMARY KEY, title VARCHAR(40));
    INSERT INTO products VALUES ${rows(12, (i) => `(${i}, 'p${i}')`)};
  `);
  work = mkdtempSync(join(tmpdir(), 'hw-guide-'));
  bin = join(work, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'highwater'), `#!/bin/sh\nexec '${NODE}' ${CLI_ARGS.map((a) => `'${a}'`).join(' ')} "$@"\n`);
  chmodSync(join(bin, 'highwater'), 0o755);
});

afterAll(async () => {
  await db?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the guide, in single-connection (v1.0.0) mode, then switched with config setup', () => {
  let project: string;
  beforeAll(() => {
    project = join(work, 'project');
    mkdirSync(project);
  });

  test('Pre-Migration Checklist and the v1.0.0 command examples', async () => {
    const r = await runAll(project, [
      // Pre-Migration Checklist
      'python -m src.cli.main sync -t settlement.table_name --limit 100',
      'python -m src.cli.main watermark get -t settlement.table_name',
      'python -m src.cli.main s3clean list -t settlement.table_name',
      'python -m src.cli.main connections list 2>/dev/null && echo "v1.1.0 mode" || echo "v1.0.0 mode"',
      // Switch TO v1.0.0 Mode (already there) / Mode Verification Commands
      'python -m src.cli.main sync -t settlement.table_name --limit 1',
      'python -m src.cli.main sync -t settlement.table_name --limit 10',
      // v1.0.0 Compatible Commands
      'python -m src.cli.main sync -t settlement.settlement_normal_delivery_detail',
      `python -m src.cli.main sync -t settlement.table_name \\
  --limit 1000 \\
  --max-workers 4 \\
  --max-chunks 10 \\
  --backup-only \\
  --redshift-only`,
      'python -m src.cli.main watermark get -t settlement.table_name',
      "python -m src.cli.main watermark set -t settlement.table_name --timestamp '2025-08-09 20:00:01'",
      'python -m src.cli.main watermark-count validate-counts -t settlement.table_name',
      'python -m src.cli.main s3clean list -t settlement.table_name',
      'python -m src.cli.main s3clean clean -t settlement.table_name --older-than "7d"',
      // Troubleshooting
      'python -m src.cli.main sync --help | grep -E "(max-workers|max-chunks)"',
      'python -m src.cli.main sync pipeline --help | grep -E "(max-workers|max-chunks)"',
      'python -m src.cli.main sync connections --help | grep -E "(max-workers|max-chunks)"',
      'python -m src.cli.main connections test default',
      'python -m src.cli.main multi-schema info',
      'python -m src.cli.main version',
      'python -m src.cli.main features',
      'python -m src.cli.main --debug sync -t table_name --limit 1',
    ]);
    const first = r.get('python -m src.cli.main sync -t settlement.table_name --limit 100')!;
    expect(first.out).toContain('🔄 v1.0.0 Compatibility Mode');
    expect(first.out).toMatch(/committed: 100 rows extracted, 100 loaded/);
    expect(r.get('python -m src.cli.main sync -t settlement.table_name --limit 1')!.out).toContain(
      '🔄 v1.0.0 Compatibility Mode',
    );
    expect(
      r.get('python -m src.cli.main connections list 2>/dev/null && echo "v1.1.0 mode" || echo "v1.0.0 mode"')!.out,
    ).toBe('v1.0.0 mode\n');
    expect(r.get('python -m src.cli.main sync -t settlement.settlement_normal_delivery_detail')!.out).toMatch(
      /40 rows extracted, 40 loaded/,
    );
    // By the end every row of parcels is in the warehouse, and the counts agree.
    expect(r.get('python -m src.cli.main watermark-count validate-counts -t settlement.table_name')!.out).toMatch(
      /250/,
    );
    expect(r.get('python -m src.cli.main version')!.out).toContain('single-connection');
  });

  test('Switch TO v1.1.0 Mode (config setup) and the v1.1.0 enhanced commands', async () => {
    const r = await runAll(project, [
      'python -m src.cli.main config setup',
      'python -m src.cli.main connections list',
      'python -m src.cli.main connections list 2>/dev/null && echo "v1.1.0 mode" || echo "v1.0.0 mode"',
      'python -m src.cli.main sync -t settlement.table_name --limit 10',
      'python -m src.cli.main config status',
      // v1.1.0 Enhanced Commands
      `python -m src.cli.main sync pipeline \\
  --pipeline default \\
  --table settlement.table_name \\
  --max-workers 6`,
      'python -m src.cli.main connections list --type mysql',
      'python -m src.cli.main connections health',
      'python -m src.cli.main config show-pipeline default',
      'python -m src.cli.main config validate-pipeline default',
      // Progressive Migration / checklist
      'python -m src.cli.main sync pipeline --pipeline default -t settlement.table_name',
      'python -m src.cli.main config list-pipelines',
      'python -m src.cli.main sync pipeline -p default -t table_name',
      'python -m src.cli.main connections info default',
      'python -m src.cli.main watermark get -t settlement.table_name',
      'python -m src.cli.main watermark-count validate-counts -t settlement.table_name',
    ]);
    expect(r.get('python -m src.cli.main connections list')!.out).toContain('Available Database Connections');
    expect(
      r.get('python -m src.cli.main connections list 2>/dev/null && echo "v1.1.0 mode" || echo "v1.0.0 mode"')!.out,
    ).toContain('v1.1.0 mode');
    expect(r.get('python -m src.cli.main sync -t settlement.table_name --limit 10')!.out).toContain(
      '📋 Using default pipeline configuration',
    );
    expect(r.get('python -m src.cli.main config list-pipelines')!.out).toContain('default');
    // The same table, the same watermark: setup kept the default pipeline's names, so nothing starts over.
    expect(r.get('python -m src.cli.main watermark get -t settlement.table_name')!.out).toContain(
      '2025-08-09 20:00:01',
    );
  });

  test('CDC configuration: the guide’s pipelines with bare table names validate and sync', async () => {
    writeFileSync(
      join(project, 'config/pipelines/sales_pipeline.yml'),
      `tables:
  customers:
    cdc_strategy: "hybrid"                # 5 strategies supported in config
    cdc_timestamp_column: "updated_at"    # flexible column specification
    cdc_id_column: "customer_id"

  orders:
    cdc_strategy: "timestamp_only"        # v1.0.0 compatibility
    cdc_timestamp_column: "created_at"    # NOT limited to updated_at

  products:
    cdc_strategy: "full_sync"             # complete refresh
`,
    );
    const setUp = await run(
      project,
      `cat > config/pipelines/production.yml << 'EOF'
tables:
  customers:
    cdc_strategy: "hybrid"
    cdc_timestamp_column: "last_modified"  # Not just updated_at
    cdc_id_column: "customer_id"
    
  orders:
    cdc_strategy: "timestamp_only" 
    cdc_timestamp_column: "order_date"     # Orders use order_date
EOF`,
    );
    expect(setUp.code, setUp.err).toBe(0);
    const r = await runAll(project, [
      'python -m src.cli.main config validate-pipeline sales_pipeline',
      'python -m src.cli.main sync pipeline --pipeline sales_pipeline --table customers',
      'python -m src.cli.main config validate-pipeline production',
      'python -m src.cli.main sync pipeline --pipeline production --table customers',
    ]);
    expect(r.get('python -m src.cli.main sync pipeline --pipeline production --table customers')!.out).toMatch(
      /30 rows extracted, 30 loaded/,
    );
  });

  test('Rollback: rm connections.yml, config reset, and a complete rollback to v1.0.0', async () => {
    const r = await runAll(project, [
      'rm -f config/connections.yml',
      'python -m src.cli.main sync -t settlement.table_name --limit 1',
      // Test mode switching
      "rm -f config/connections.yml && echo 'Switched to v1.0.0'",
      "python -m src.cli.main config setup && echo 'Switched to v1.1.0'",
      'python -m src.cli.main sync -t settlement.table_name --limit 10',
      'python -m src.cli.main config reset',
      'rm -rf config/pipelines config/environments',
      'unset ENABLE_MULTI_SCHEMA',
      'python -m src.cli.main version',
      'python -m src.cli.main sync -t settlement.table_name --limit 10',
      'rm -rf config/',
      'python -m src.cli.main sync -t settlement.table_name --limit 10',
      'python -m src.cli.main sync -t settlement.table_name --limit 100',
      'python -m src.cli.main watermark get -t settlement.table_name',
      'python -m src.cli.main s3clean list -t settlement.table_name',
    ]);
    expect(r.get('python -m src.cli.main sync -t settlement.table_name --limit 1')!.out).toContain(
      '🔄 v1.0.0 Compatibility Mode',
    );
    expect(r.get('python -m src.cli.main sync -t settlement.table_name --limit 10')!.out).toContain(
      '🔄 v1.0.0 Compatibility Mode',
    );
    expect(r.get("python -m src.cli.main config setup && echo 'Switched to v1.1.0'")!.out).toContain(
      'Switched to v1.1.0',
    );
    expect(r.get('python -m src.cli.main version')!.out).toContain('single-connection');
  });
});

describe('the guide’s Manual Configuration: named connections, a bastion, and Redshift', () => {
  let project: string;
  let aws: AwsStandins;
  let sshd: SshdInstance;
  let env: Record<string, string>;

  beforeAll(async () => {
    const maria = inject('mariadb');
    [aws, sshd] = await Promise.all([startAwsStandins(), startSshd({ permitOpen: [`127.0.0.1:${maria.port}`] })]);
    const fresh = await aws.fresh();
    project = join(work, 'manual');
    mkdirSync(join(project, 'config/pipelines'), { recursive: true });
    const key = join(work, 'bastion.pem');
    writeFileSync(key, sshd.privateKey, { mode: 0o600 });
    env = {
      DB_PASSWORD: db.password,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
    };
    // The guide's connections.yml, with this machine's hosts (the Redshift target through the Data API).
    writeFileSync(
      join(project, 'config/connections.yml'),
      `connections:
  sources:
    mysql_default:
      host: ${db.host}
      port: ${db.port}
      database: ${db.database}
      username: ${db.user}
      password: "\${DB_PASSWORD}"
      ssh_tunnel:
        enabled: true
        host: ${sshd.host}
        port: ${sshd.port}
        username: ${sshd.username}
        private_key_path: ${key}
        host_key_sha256: "${sshd.hostKeySha256}"
  targets:
    redshift_default:
      type: redshift
      workgroup: hw-test
      database: postgres
      schema: ${fresh.schema}
      secret_arn: arn:aws:secretsmanager:us-east-1:123456789012:secret:hw-test
      iam_role_arn: arn:aws:iam::123456789012:role/hw-copy
      region: us-east-1
      endpoint: ${aws.redshift.endpoint}
`,
    );
    writeFileSync(
      join(project, 'config/pipelines/default.yml'),
      `pipeline:
  source: mysql_default
  target: redshift_default
  s3:
    bucket: ${fresh.bucket}
    prefix: highwater/
    region: us-east-1
    endpoint: ${aws.s3.endpoint}
`,
    );
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled([aws?.stop(), sshd?.stop()]);
  });

  test('connections, an ad-hoc sync into Redshift through the bastion, and the S3 and count checks', async () => {
    const r = await runAll(
      project,
      [
        'python -m src.cli.main connections test --all',
        'python -m src.cli.main connections list',
        'python -m src.cli.main connections info mysql_default',
        'python -m src.cli.main connections list --type mysql',
        'python -m src.cli.main connections test mysql_default',
        'python -m src.cli.main connections health',
        `python -m src.cli.main sync connections \\
  --source mysql_default \\
  --target redshift_default \\
  --table settlement.table_name \\
  --max-chunks 20`,
        `python -m src.cli.main sync pipeline \\
  --pipeline default \\
  --table settlement.table_name \\
  --max-workers 6`,
        'python -m src.cli.main watermark-count validate-counts -t settlement.table_name',
        'python -m src.cli.main s3clean list -t settlement.table_name',
        'python -m src.cli.main config status',
      ],
      env,
    );
    const test = r.get('python -m src.cli.main connections test mysql_default')!;
    expect(test.out).toMatch(/ssh/);
    expect(test.out).toMatch(/mysql/);
    const info = r.get('python -m src.cli.main connections info mysql_default')!;
    expect(info.out).toContain(`$${'{DB_PASSWORD}'}`);
    const adhoc = [...r.values()].find((x) => x.line.includes('sync connections'))!;
    expect(adhoc.out).toMatch(/250 rows extracted, 250 loaded/);
    const counts = r.get('python -m src.cli.main watermark-count validate-counts -t settlement.table_name')!;
    expect(counts.out).toMatch(/250/);
  });
});
