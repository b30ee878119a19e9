import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  adhocPipeline,
  configEnv,
  getPipeline,
  getTableConfig,
  loadConfig,
  requireSource,
  secretFromEnv,
} from '../../../../lambdas/engine/config/index.js';
import { ConfigError } from '../../../../lambdas/errors.js';
import { project, removeProjects, thrown } from './fixture.js';

afterAll(removeProjects);

const FULL_ENV = {
  MYSQL_HOST: 'db.internal',
  MYSQL_PORT: '3307',
  MYSQL_USER: 'reader',
  MYSQL_PASSWORD: 'hunter2-very-secret',
  MYSQL_DATABASE: 'shop',
  SSH_BASTION_HOST: 'bastion.example.com',
  SSH_BASTION_PORT: '2222',
  SSH_BASTION_USER: 'ec2-user',
  SSH_BASTION_KEY_PATH: '/keys/bastion.pem',
  SSH_BASTION_HOST_KEY_SHA256: 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU',
};

describe('single-connection mode (environment)', () => {
  it('MYSQL_TIME_ZONE sets the zone DATETIME cursors are written in; a bad one is refused naming it', async () => {
    const cfg = await loadConfig({ cwd: project(), env: { ...FULL_ENV, MYSQL_TIME_ZONE: 'Asia/Shanghai' } });
    expect(getPipeline(cfg, 'default').source.timeZone).toBe('Asia/Shanghai');
    const bad = await loadConfig({ cwd: project(), env: { ...FULL_ENV, MYSQL_TIME_ZONE: '+25:99x' } }).then(
      (c) => getPipeline(c, 'default'),
      (e: unknown) => e,
    );
    expect(String(bad)).toMatch(/MYSQL_TIME_ZONE: time_zone "\+25:99x" is neither an offset/);
  });

  it('builds the default source, target, staging and state from the environment', async () => {
    const cwd = project();
    const cfg = await loadConfig({ cwd, env: FULL_ENV });
    const p = getPipeline(cfg, 'default');
    expect(p.source).toEqual({
      name: 'default',
      host: 'db.internal',
      port: 3307,
      database: 'shop',
      username: 'reader',
      password: { kind: 'env', name: 'MYSQL_PASSWORD' },
      description: 'from environment variables (MYSQL_*)',
      settings: {
        host: 'MYSQL_HOST',
        port: 'MYSQL_PORT',
        user: 'MYSQL_USER',
        password: 'MYSQL_PASSWORD',
        database: 'MYSQL_DATABASE',
      },
      sshTunnel: {
        host: 'bastion.example.com',
        port: 2222,
        username: 'ec2-user',
        privateKeyPath: '/keys/bastion.pem',
        hostKeySha256: 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU',
        connectTimeoutSeconds: 10,
        keepaliveSeconds: 30,
        acceptUnpinnedHostKey: false,
      },
    });
    expect(p.target).toEqual({
      type: 'duckdb',
      name: 'default',
      path: `${cwd}/.highwater/warehouse.duckdb`,
      schema: 'public',
    });
    expect(p.staging).toEqual({ type: 'local', root: `${cwd}/.highwater/staging` });
    expect(p.state).toEqual({ type: 'local', path: `${cwd}/.highwater/state.sqlite` });
    expect(p.processing).toEqual({
      maxWorkers: 4,
      batchSize: 65536,
      chunkRows: null,
      chunkBytes: 268435456,
      chunkSeconds: 300,
      readRowsPerSecond: 20000,
      leaseSeconds: 3600,
      maxInlineChunks: 1000,
    });
    expect(p.origin).toBe('environment');
    expect(p.tables).toEqual([]);
    expect(requireSource(p)).toBe(p.source);
  });

  it('never copies the password into the configuration objects', async () => {
    const cfg = await loadConfig({ cwd: project(), env: FULL_ENV });
    const dump = JSON.stringify({ cfg, p: getPipeline(cfg, 'default') });
    expect(dump).not.toContain('hunter2');
    // …but the adapters can read it, from the merged env (so a password in .env works too).
    expect(secretFromEnv(cfg, { kind: 'env', name: 'MYSQL_PASSWORD' })).toBe('hunter2-very-secret');
  });

  it('secretFromEnv reads .env values, returns literals, leaves Secrets Manager refs to the AWS adapter', async () => {
    const cfg = await loadConfig({ cwd: project({ '.env': 'MYSQL_PASSWORD=from-dotenv\n' }), env: {} });
    expect(getPipeline(cfg, 'default').source.password).toEqual({ kind: 'env', name: 'MYSQL_PASSWORD' });
    expect(secretFromEnv(cfg, { kind: 'env', name: 'MYSQL_PASSWORD' })).toBe('from-dotenv');
    expect(configEnv(cfg).MYSQL_PASSWORD).toBe('from-dotenv');
    expect(secretFromEnv(cfg, { kind: 'literal', value: 'x' })).toBe('x');
    expect(secretFromEnv(cfg, { kind: 'secretsmanager', secretId: 'arn:x' })).toBeUndefined();
    const e = await thrown(() => secretFromEnv(cfg, { kind: 'env', name: 'NOPE_PW' }));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toBe('environment variable NOPE_PW is not set (it holds a secret)');
  });

  it('a .env that cannot be read (here a folder) is a ConfigError naming it, not a silent default', async () => {
    const cwd = project();
    mkdirSync(join(cwd, '.env'));
    const e = await thrown(() => loadConfig({ cwd, env: { MYSQL_HOST: 'h' } }));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message.startsWith(`cannot read ${join(cwd, '.env')}: EISDIR`), e.message).toBe(true);
  });

  it('a home that is a file is a ConfigError naming where it was set, before any command touches it', async () => {
    const cwd = project({ 'state-file': 'not a folder\n' });
    const file = join(cwd, 'state-file');
    const fromEnv = await thrown(() => loadConfig({ cwd, env: { HIGHWATER_HOME: 'state-file' } }));
    expect(fromEnv).toBeInstanceOf(ConfigError);
    expect(fromEnv.message).toBe(
      `HIGHWATER_HOME ${file} is not a folder (it holds the local state, staging and warehouse)`,
    );
    const fromFlag = await thrown(() => loadConfig({ cwd, home: file, env: {} }));
    expect(fromFlag.message).toBe(`--home ${file} is not a folder (it holds the local state, staging and warehouse)`);
    // A home that does not exist yet is fine: the first run creates it.
    await expect(loadConfig({ cwd, env: { HIGHWATER_HOME: join(cwd, 'later') } })).resolves.toBeDefined();
  });

  it('defaults: port 3306, no tunnel, no password, schema from HIGHWATER_TARGET_SCHEMA', async () => {
    const cfg = await loadConfig({ cwd: project(), env: { MYSQL_HOST: 'h', HIGHWATER_TARGET_SCHEMA: 'analytics' } });
    const p = getPipeline(cfg, 'default');
    expect(p.source.port).toBe(3306);
    expect(p.source.sshTunnel).toBeUndefined();
    expect(p.source.password).toBeUndefined();
    expect(p.target.schema).toBe('analytics');
    const tunnel = await loadConfig({ cwd: project(), env: { MYSQL_HOST: 'h', SSH_BASTION_HOST: 'b' } });
    expect(getPipeline(tunnel, 'default').source.sshTunnel?.port).toBe(22);
  });

  it('loads without MYSQL_HOST (so watermark commands work); requireSource names the variable', async () => {
    const cfg = await loadConfig({ cwd: project(), env: {} });
    const p = getPipeline(cfg, 'default');
    expect(p.source.host).toBe('');
    const e = await thrown(() => requireSource(p));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/^MYSQL_HOST is not set/);
  });

  it('requireSource refuses a bastion without user or key', async () => {
    const noUser = await loadConfig({ cwd: project(), env: { MYSQL_HOST: 'h', SSH_BASTION_HOST: 'b' } });
    expect((await thrown(() => requireSource(getPipeline(noUser, 'default')))).message).toBe(
      'SSH_BASTION_HOST is set but SSH_BASTION_USER is not',
    );
    const noKey = await loadConfig({
      cwd: project(),
      env: { MYSQL_HOST: 'h', SSH_BASTION_HOST: 'b', SSH_BASTION_USER: 'u' },
    });
    expect((await thrown(() => requireSource(getPipeline(noKey, 'default')))).message).toBe(
      'SSH_BASTION_HOST is set but SSH_BASTION_KEY_PATH is not',
    );
  });

  it('a bad MYSQL_PORT, SSH_BASTION_PORT or HIGHWATER_TARGET_SCHEMA is a ConfigError naming the variable', async () => {
    for (const [env, name] of [
      [{ MYSQL_PORT: 'abc' }, 'MYSQL_PORT'],
      [{ MYSQL_PORT: '70000' }, 'MYSQL_PORT'],
      [{ SSH_BASTION_HOST: 'b', SSH_BASTION_PORT: '-1' }, 'SSH_BASTION_PORT'],
      [{ HIGHWATER_TARGET_SCHEMA: 'x"; drop' }, 'HIGHWATER_TARGET_SCHEMA'],
    ] as const) {
      const e = await thrown(() => loadConfig({ cwd: project(), env }));
      expect(e).toBeInstanceOf(ConfigError);
      expect(e.message).toContain(`environment variable ${name}=`);
    }
  });

  it('tables come from the command line: registered on the fly with the defaults', async () => {
    const p = getPipeline(await loadConfig({ cwd: project(), env: {} }), 'default');
    expect(getTableConfig(p, 'Shop.Orders')).toEqual({
      name: 'Shop.Orders',
      sourceSchema: 'Shop',
      sourceTable: 'Orders',
      strategy: 'hybrid',
      timestampColumn: 'updated_at',
      idColumn: 'id',
      targetName: 'orders',
      fullSyncMode: 'replace',
      timestampFormat: 'datetime',
      lagSeconds: 0,
      lookbackSeconds: 0,
      clockSkewSeconds: 15,
      onColumnDrop: 'keep',
      oversize: 'error',
      chunkRows: null,
      chunkBytes: 268435456,
      chunkSeconds: 300,
      readRowsPerSecond: 20000,
      deleteDetection: false,
      deleteDetectionEverySeconds: null,
      verifyEvery: null,
      history: null,
      batchSize: 65536,
      dependsOn: [],
    });
    const e = await thrown(() => getTableConfig(p, 'shop.orders; DROP TABLE x'));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toContain('"shop.orders; DROP TABLE x" is not schema.table');
  });

  it('only the default pipeline exists; another name is a ConfigError listing it', async () => {
    const cfg = await loadConfig({ cwd: project(), env: {} });
    const e = await thrown(() => getPipeline(cfg, 'sales'));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toBe('unknown pipeline "sales"; available: default');
  });

  it('adhocPipeline between the default connections: hybrid tables on the fly, staged like default', async () => {
    const cfg = await loadConfig({ cwd: project(), env: { MYSQL_HOST: 'h' } });
    const p = adhocPipeline(cfg, 'default', 'default');
    expect(p.name).toBe('adhoc_default_to_default');
    expect(p.staging).toEqual(getPipeline(cfg, 'default').staging);
    expect(p.state).toEqual(getPipeline(cfg, 'default').state);
    const t = getTableConfig(p, 'shop.orders');
    expect([t.strategy, t.timestampColumn, t.idColumn]).toEqual(['hybrid', 'updated_at', 'id']);
    expect((await thrown(() => adhocPipeline(cfg, 'nope', 'default'))).message).toBe(
      'unknown source connection "nope"; defined: default',
    );
    expect((await thrown(() => adhocPipeline(cfg, 'default', 'nope'))).message).toBe(
      'unknown target connection "nope"; defined: default',
    );
  });

  it('getPipeline refuses a configuration object not made by loadConfig', async () => {
    const cfg = await loadConfig({ cwd: project(), env: {} });
    const e = await thrown(() => getPipeline(JSON.parse(JSON.stringify(cfg)), 'default'));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toBe('this configuration object was not made by loadConfig()');
    expect(getPipeline({ ...cfg }, 'default').name).toBe('default'); // a spread copy still works
  });
});
