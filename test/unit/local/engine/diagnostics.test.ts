/** The pure half of `connections test/health/info` and `features`: hop sequencing, deadlines, masking, lists. */
import { describe, expect, test } from 'vitest';
import { CDC_STRATEGIES, type SourceConnection } from '../../../../lambdas/domain/config.js';
import { ConfigError, ConnectionError } from '../../../../lambdas/errors.js';
import {
  connectionSettings,
  listEntry,
  MASK,
  showSecret,
} from '../../../../lambdas/local/engine/diagnostics/describe.js';
import { featureReport } from '../../../../lambdas/local/engine/diagnostics/features.js';
import {
  type HopStep,
  HopTimeoutError,
  probeConnection,
  summarizeFailures,
} from '../../../../lambdas/local/engine/diagnostics/probe.js';

const target = { connection: 'mysql_prod', role: 'source', kind: 'mysql' } as const;

function clock(...ticks: number[]): () => number {
  let i = 0;
  return () => ticks[i++] ?? ticks[ticks.length - 1]!;
}

const ok = (kind: HopStep['kind'], address: string, facts: Record<string, string> = {}): HopStep => ({
  kind,
  address,
  measures: 'm',
  run: async () => facts,
});

describe('probeConnection', () => {
  test('times every hop and sums the latency; a tunnel hop that worked is "up"', async () => {
    const p = await probeConnection(
      target,
      [ok('ssh', 'u@bastion:22', { 'host key': 'SHA256:x' }), ok('mysql', 'db:3306')],
      {
        timeoutMs: 1000,
        redact: (t) => t,
        now: clock(0, 40, 40, 52),
      },
    );
    expect(p).toMatchObject({ ok: true, latencyMs: 52, tunnel: 'up' });
    expect(p.hops.map((h) => [h.kind, h.status, h.latencyMs])).toEqual([
      ['ssh', 'ok', 40],
      ['mysql', 'ok', 12],
    ]);
    expect(p.hops[0]?.facts).toEqual({ 'host key': 'SHA256:x' });
  });

  test('the first failure stops the probe: later hops are skipped, the error is redacted and classified', async () => {
    const failing: HopStep = {
      kind: 'ssh',
      address: 'u@bastion:22',
      measures: 'handshake',
      run: () => Promise.reject(new ConnectionError('login with hunter2 refused', { suggestion: 'check the key' })),
    };
    let mysqlRan = false;
    const mysql: HopStep = {
      ...ok('mysql', 'db:3306'),
      run: async () => {
        mysqlRan = true;
        return {};
      },
    };
    const p = await probeConnection(target, [failing, mysql], {
      timeoutMs: 1000,
      redact: (t) => t.replaceAll('hunter2', '***'),
    });
    expect(mysqlRan).toBe(false);
    expect(p.ok).toBe(false);
    expect(p.tunnel).toBe('down');
    expect(p.hops[0]).toMatchObject({
      status: 'failed',
      errorName: 'ConnectionError',
      error: 'login with *** refused (check the key)',
    });
    expect(p.hops[1]).toMatchObject({ status: 'skipped', facts: {} });
    expect(p.hops[1]?.latencyMs).toBeUndefined();
  });

  test('a hop that never answers fails at the deadline, and its signal tells it to clean up', async () => {
    let aborted: unknown;
    const hanging: HopStep = {
      kind: 'mysql',
      address: '10.0.0.1:3306',
      measures: 'connect',
      run: (signal) =>
        new Promise(() => {
          signal.addEventListener('abort', () => {
            aborted = signal.reason;
          });
        }),
    };
    const p = await probeConnection(target, [hanging], { timeoutMs: 30, redact: (t) => t });
    expect(p.ok).toBe(false);
    expect(p.tunnel).toBe('none');
    expect(p.hops[0]?.error).toBe('mysql 10.0.0.1:3306: no answer within 30 ms');
    expect(p.hops[0]?.errorName).toBe('HopTimeoutError');
    expect(aborted).toBeInstanceOf(HopTimeoutError);
  });

  test('summarizeFailures names each failed connection and hop, and tells configuration problems apart', async () => {
    const bad = await probeConnection(
      target,
      [{ ...ok('mysql', 'db:3306'), run: () => Promise.reject(new ConnectionError('x')) }],
      {
        timeoutMs: 100,
        redact: (t) => t,
      },
    );
    const cfg = await probeConnection(
      { connection: 'default', role: 'source', kind: 'mysql' },
      [{ ...ok('config', 'default'), run: () => Promise.reject(new ConfigError('MYSQL_HOST is not set')) }],
      { timeoutMs: 100, redact: (t) => t },
    );
    const good = await probeConnection(
      { connection: 'wh', role: 'target', kind: 'duckdb' },
      [ok('duckdb', 'w.duckdb')],
      {
        timeoutMs: 100,
        redact: (t) => t,
      },
    );
    expect(summarizeFailures([good])).toBeUndefined();
    expect(summarizeFailures([good, bad, cfg])).toEqual({
      message:
        '2 of 3 connections failed: mysql_prod (source mysql: mysql hop db:3306), default (source mysql: config hop default)',
      configOnly: false,
    });
    expect(summarizeFailures([cfg])?.configOnly).toBe(true);
  });
});

describe('describe', () => {
  const source: SourceConnection = {
    name: 'mysql_prod',
    host: 'db.internal',
    port: 3306,
    database: 'shop',
    username: 'reader',
    password: { kind: 'literal', value: 'pw-literal' },
    sshTunnel: {
      host: 'bastion',
      port: 22,
      username: 'ec2-user',
      privateKey: { kind: 'env', name: 'SSH_KEY' },
      connectTimeoutSeconds: 10,
      keepaliveSeconds: 30,
      acceptUnpinnedHostKey: false,
    },
  };

  test('secrets: literal → ***, env → the reference and whether it is set, Secrets Manager → the id', () => {
    const isSet = (n: string) => n === 'SET_ONE';
    expect(showSecret({ kind: 'literal', value: 'pw' }, isSet)).toBe(MASK);
    expect(showSecret({ kind: 'env', name: 'SET_ONE' }, isSet)).toBe(`\${SET_ONE} (set)`);
    expect(showSecret({ kind: 'env', name: 'OTHER' }, isSet)).toBe(`\${OTHER} (NOT SET)`);
    expect(showSecret({ kind: 'secretsmanager', secretId: 'prod/db', key: 'password' }, isSet)).toBe(
      'Secrets Manager prod/db key password',
    );
    expect(showSecret(undefined, isSet)).toBeUndefined();
  });

  test('connectionSettings shows every key in YAML names and no secret value', () => {
    const s = connectionSettings({ role: 'source', kind: 'mysql', connection: source }, () => true);
    expect(s).toMatchObject({
      host: 'db.internal',
      port: '3306',
      password: '***',
      'ssh_tunnel.private_key': `\${SSH_KEY} (set)`,
      'ssh_tunnel.host_key_sha256':
        '(not pinned: a local run remembers the first key it sees; a deployed run refuses the bastion)',
    });
    expect(JSON.stringify(s)).not.toContain('pw-literal');
    const rs = connectionSettings(
      {
        role: 'target',
        kind: 'redshift',
        connection: {
          type: 'redshift',
          name: 'rs',
          schema: 'public',
          database: 'dev',
          host: 'old.redshift',
          port: 5439,
          password: { kind: 'literal', value: 'rs-pw' },
        },
      },
      () => false,
    );
    expect(rs).toMatchObject({ type: 'redshift', host: 'old.redshift', password: '***' });
    expect(JSON.stringify(rs)).not.toContain('rs-pw');
  });

  test('listEntry: address, database and tunnel of each kind', () => {
    expect(listEntry({ role: 'source', kind: 'mysql', connection: source })).toMatchObject({
      address: 'db.internal:3306',
      database: 'shop',
      tunnel: true,
      via: 'ec2-user@bastion:22',
    });
    expect(
      listEntry({
        role: 'source',
        kind: 'mysql',
        connection: { ...source, host: '', database: '', sshTunnel: undefined },
      }),
    ).toMatchObject({ address: '(host not set)', database: null, tunnel: false });
    expect(
      listEntry({
        role: 'target',
        kind: 'redshift',
        connection: { type: 'redshift', name: 'rs', schema: 'public', database: 'dev', workgroup: 'wg' },
      }),
    ).toMatchObject({ kind: 'redshift', address: 'workgroup wg', database: 'dev' });
  });
});

test('featureReport lists every CDC strategy from CDC_STRATEGIES as executed, and both adapters of each port', () => {
  const f = featureReport();
  expect(f.cdcStrategies.map((s) => s.name)).toEqual([...CDC_STRATEGIES]);
  expect(f.cdcStrategies.every((s) => s.executed)).toBe(true);
  expect(f.staging.map((a) => [a.name, a.adapter])).toEqual([
    ['local', 'local'],
    ['s3', 'aws'],
  ]);
  expect(f.state.map((a) => a.name)).toEqual(['local', 'dynamodb']);
  expect(f.warehouse.map((a) => a.name)).toEqual(['duckdb', 'redshift']);
  expect(f.modes.map((m) => m.mode)).toEqual(['single', 'multi']);
});
