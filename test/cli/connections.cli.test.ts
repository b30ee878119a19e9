/**
 * `highwater connections …` as a user runs it: a spawned CLI against the private MariaDB, directly and through a
 * real OpenSSH bastion, in multi-connection mode (a written config dir) and single-connection mode (environment).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { CLI_ARGS, NODE } from '../support/cli.js';
import { freePort } from '../support/free-port.js';
import { type SshdInstance, startSshd } from '../support/sshd.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';

const LITERAL_PASSWORD = 'Lit3ral-Pa55word-4x9';
const ENV_PASSWORD = 'Env-Secret-Value-7q2';
const WRONG_PIN = `SHA256:${'A'.repeat(43)}`;

let db: TestDatabase;
let sshd: SshdInstance;
let silent: Server;
let dir: string;
let closedPort: number;
let silentPort: number;

interface Result {
  code: number | null;
  out: string;
  err: string;
}

/** Spawned without blocking this process (the silent server below lives here). */
function run(cwd: string, env: Record<string, string>, args: string[]): Promise<Result> {
  return new Promise((done) => {
    execFile(
      NODE,
      [...CLI_ARGS, ...args],
      { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        done({ code, out: stdout, err: stderr });
      },
    );
  });
}

/** Multi-connection mode: the config dir written in beforeAll. */
const hw = (...args: string[]) => run(dir, { HW_TEST_PASSWORD: ENV_PASSWORD }, args);

/** Single-connection mode: no config dir, MYSQL_* from the environment. */
function hwEnv(env: Record<string, string>, ...args: string[]): Promise<Result> {
  const cwd = mkdtempSync(join(tmpdir(), 'hw-conn-env-'));
  return run(cwd, env, args).finally(() => rmSync(cwd, { recursive: true, force: true }));
}

function indent(text: string, spaces: number): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `${' '.repeat(spaces)}${l}`)
    .join('\n');
}

beforeAll(async () => {
  db = await createTestDatabase('conn');
  const maria = inject('mariadb');
  sshd = await startSshd({ permitOpen: [`127.0.0.1:${maria.port}`] });
  closedPort = await freePort();
  // Accepts TCP connections and never says a word: a MySQL handshake that never comes.
  silent = createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  silentPort = (silent.address() as { port: number }).port;
  dir = mkdtempSync(join(tmpdir(), 'hw-conn-'));
  mkdirSync(join(dir, 'config'));
  const keyPath = join(dir, 'bastion_key');
  writeFileSync(keyPath, sshd.privateKey, { mode: 0o600 });
  const tunnel = (pin: string, key: string) => `      ssh_tunnel:
        enabled: true
        host: ${sshd.host}
        port: ${sshd.port}
        username: ${sshd.username}
${key}
        host_key_sha256: "${pin}"
        connect_timeout: 5`;
  writeFileSync(
    join(dir, 'config', 'connections.yml'),
    `connections:
  sources:
    mysql_direct:
      host: ${db.host}
      port: ${db.port}
      database: ${db.database}
      username: ${db.user}
    mysql_tunnel:
      host: 127.0.0.1
      port: ${maria.port}
      database: ${db.database}
      username: ${db.user}
${tunnel(sshd.hostKeySha256, `        private_key_path: ${keyPath}`)}
    mysql_badpin:
      host: 127.0.0.1
      port: ${maria.port}
      username: ${db.user}
${tunnel(WRONG_PIN, `        private_key: |\n${indent(sshd.privateKey.toString('utf8'), 10)}`)}
    mysql_down:
      host: 127.0.0.1
      port: ${closedPort}
      database: shop
      username: reader
      password: ${LITERAL_PASSWORD}
    mysql_envpw:
      host: 127.0.0.1
      port: ${silentPort}
      username: reader
      password: "\${HW_TEST_PASSWORD}"
  targets:
    duckdb_local:
      type: duckdb
      path: wh.duckdb
`,
  );
});

afterAll(async () => {
  await db?.drop();
  await sshd?.stop();
  silent?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('list shows every connection with its kind, address, database and tunnel, and says the mode', async () => {
  const r = await hw('connections', 'list');
  expect(r.code, r.err).toBe(0);
  expect(r.out).toContain('Available Database Connections');
  expect(r.out).toContain('Mode: multi-connection (v1.1.0)');
  expect(r.out).toMatch(new RegExp(`mysql_direct\\s+source mysql\\s+${db.host}:${db.port}\\s+${db.database}\\s+no`));
  expect(r.out).toMatch(/mysql_tunnel\s+source mysql\s+.*yes \(/);
  expect(r.out).toMatch(/duckdb_local\s+target duckdb\s+\S+wh\.duckdb/);

  const mysqlOnly = await hw('connections', 'list', '--type', 'mysql', '--json');
  expect(mysqlOnly.code).toBe(0);
  const entries = JSON.parse(mysqlOnly.out) as { name: string; kind: string; tunnel: boolean; via: string | null }[];
  expect(entries.map((e) => e.name)).toEqual([
    'mysql_badpin',
    'mysql_direct',
    'mysql_down',
    'mysql_envpw',
    'mysql_tunnel',
  ]);
  expect(entries.every((e) => e.kind === 'mysql')).toBe(true);
  expect(entries.find((e) => e.name === 'mysql_tunnel')).toMatchObject({
    tunnel: true,
    via: `${sshd.username}@${sshd.host}:${sshd.port}`,
  });

  const duck = await hw('connections', 'list', '--type', 'duckdb');
  expect(duck.out).toContain('duckdb_local');
  expect(duck.out).not.toMatch(/^mysql_/m);
  const none = await hw('connections', 'list', '--type', 'redshift');
  expect(none.code).toBe(0);
  expect(none.out).toContain('no redshift connections');

  const bad = await hw('connections', 'list', '--type', 'oracle');
  expect(bad.code).toBe(1);
  expect(bad.err).toContain('oracle');
});

test('single-connection mode: list exits 1 (the guide’s mode check) naming the environment connections; test default connects', async () => {
  const env = {
    MYSQL_HOST: db.host,
    MYSQL_PORT: String(db.port),
    MYSQL_USER: db.user,
    MYSQL_PASSWORD: db.password,
    MYSQL_DATABASE: db.database,
  };
  const r = await hwEnv(env, 'connections', 'list');
  expect(r.code).toBe(1);
  expect(r.out).toBe('');
  expect(r.err).toContain('Mode: single-connection (v1.0.0 compatibility)');
  expect(r.err).toMatch(new RegExp(`default\\s+source mysql\\s+${db.host}:${db.port}\\s+${db.database}`));
  expect(r.err).toMatch(/default\s+target duckdb/);
  expect(r.err).toContain('highwater config setup');

  const t = await hwEnv(env, 'connections', 'test', 'default');
  expect(t.code, t.out + t.err).toBe(0);
  expect(t.out).toMatch(/ok\s+mysql\s+/);
  expect(t.out).toContain('server: ');
  expect(t.out).toContain('file: not created yet');

  const noHost = await hwEnv({}, 'connections', 'test', 'default');
  expect(noHost.code).toBe(1);
  expect(noHost.out + noHost.err).toContain('MYSQL_HOST is not set');
});

test('single-connection mode through SSH_BASTION_*: both hops, an unpinned key said so; a refused forward fails the mysql hop', async () => {
  const maria = inject('mariadb');
  const env = {
    MYSQL_HOST: '127.0.0.1',
    MYSQL_PORT: String(maria.port),
    MYSQL_USER: db.user,
    MYSQL_DATABASE: db.database,
    SSH_BASTION_HOST: sshd.host,
    SSH_BASTION_PORT: String(sshd.port),
    SSH_BASTION_USER: sshd.username,
    SSH_BASTION_KEY_PATH: join(dir, 'bastion_key'),
  };
  const r = await hwEnv(env, 'connections', 'test', '--all');
  expect(r.code, r.out + r.err).toBe(0);
  expect(r.out).toMatch(/ok\s+ssh\s+/);
  expect(r.out).toContain(`NOT PINNED (any key is accepted): set SSH_BASTION_HOST_KEY_SHA256=${sshd.hostKeySha256}`);
  expect(r.out).toMatch(/ok\s+mysql\s+127\.0\.0\.1:\d+\s+\d+ ms\s+connect through the tunnel/);
  expect(r.out).toMatch(/ok\s+duckdb\s+/);

  // The bastion only forwards to MariaDB (PermitOpen): the ssh hop works, the mysql hop is refused.
  const refused = await hwEnv({ ...env, MYSQL_PORT: String(closedPort) }, 'connections', 'test', 'default', '--json');
  expect(refused.code).toBe(2);
  const [p] = JSON.parse(refused.out) as { tunnel: string; hops: { kind: string; status: string; error?: string }[] }[];
  expect(p?.tunnel).toBe('up');
  expect(p?.hops.map((h) => [h.kind, h.status])).toEqual([
    ['ssh', 'ok'],
    ['mysql', 'failed'],
  ]);
  expect(p?.hops[1]?.error).toContain(`could not open a channel to 127.0.0.1:${closedPort}`);
  expect(refused.err).toContain(`default (source mysql: mysql hop 127.0.0.1:${closedPort})`);
});

test('test NAME connects directly: one mysql hop with the server version', async () => {
  const r = await hw('connections', 'test', 'mysql_direct');
  expect(r.code, r.out + r.err).toBe(0);
  expect(r.out).toMatch(
    new RegExp(`ok\\s+mysql\\s+${db.host}:${db.port}\\s+\\d+ ms\\s+connect \\+ SELECT 1; server: \\S*MariaDB`),
  );
  expect(r.out).not.toMatch(/\bssh\b/);
  expect(r.out).toContain('mysql_direct: ok');

  const j = await hw('connections', 'test', 'mysql_direct', '--json');
  const [p] = JSON.parse(j.out) as { ok: boolean; tunnel: string; hops: { kind: string; status: string }[] }[];
  expect(p).toMatchObject({ ok: true, tunnel: 'none', hops: [{ kind: 'mysql', status: 'ok' }] });
});

test('test NAME through the SSH bastion reports both hops: the handshake with the pinned key, then MySQL', async () => {
  const r = await hw('connections', 'test', 'mysql_tunnel');
  expect(r.code, r.out + r.err).toBe(0);
  const ssh = `${sshd.username}@${sshd.host}:${sshd.port}`;
  expect(r.out).toMatch(new RegExp(`ok\\s+ssh\\s+${ssh}\\s+\\d+ ms\\s+SSH handshake`));
  expect(r.out).toContain(`host key: ${sshd.hostKeySha256}; host key check: matches the pinned fingerprint`);
  expect(r.out).toMatch(
    /ok\s+mysql\s+127\.0\.0\.1:\d+\s+\d+ ms\s+connect through the tunnel \+ SELECT 1; server: \S*MariaDB/,
  );
  expect(r.out).toContain('mysql_tunnel: ok');
  expect(sshd.log()).toMatch(/Accepted publickey/);

  const j = await hw('connections', 'test', 'mysql_tunnel', '--json');
  const [p] = JSON.parse(j.out) as { tunnel: string; hops: { kind: string; status: string; facts: object }[] }[];
  expect(p?.tunnel).toBe('up');
  expect(p?.hops.map((h) => [h.kind, h.status])).toEqual([
    ['ssh', 'ok'],
    ['mysql', 'ok'],
  ]);
});

test('a tunnel whose bastion presents another host key fails at the ssh hop, naming the mismatch; exit 2', async () => {
  const r = await hw('connections', 'test', 'mysql_badpin');
  expect(r.code).toBe(2);
  expect(r.out).toMatch(/FAILED\s+ssh\s+/);
  expect(r.out).toContain(`did not match the pinned fingerprint (expected ${WRONG_PIN}, got ${sshd.hostKeySha256})`);
  expect(r.out).toMatch(/skipped\s+mysql/);
  expect(r.err).toContain('mysql_badpin (source mysql: ssh hop');
  expect(r.out + r.err).not.toContain('BEGIN OPENSSH PRIVATE KEY');
});

test('an unreachable host fails at the mysql hop in seconds, exit 2, and the password is never printed', async () => {
  const r = await hw('connections', 'test', 'mysql_down');
  expect(r.code).toBe(2);
  expect(r.out).toMatch(new RegExp(`FAILED\\s+mysql\\s+127\\.0\\.0\\.1:${closedPort}\\s+.*ECONNREFUSED`));
  expect(r.err).toContain(`mysql_down (source mysql: mysql hop 127.0.0.1:${closedPort})`);
  expect(r.out + r.err).not.toContain(LITERAL_PASSWORD);
});

test('a server that never answers is given up on at the deadline (--timeout), exit 2', async () => {
  const r = await hw('connections', 'test', 'mysql_envpw', '--timeout', '1');
  expect(r.code).toBe(2);
  expect(r.out).toMatch(
    new RegExp(`FAILED\\s+mysql\\s+127\\.0\\.0\\.1:${silentPort}\\s+.*(no answer within 1 s|ETIMEDOUT)`),
  );
  expect(r.out + r.err).not.toContain(ENV_PASSWORD);
});

test('an unknown name exits 1 listing the known names; test needs a name or --all', async () => {
  const r = await hw('connections', 'test', 'mysql_prod');
  expect(r.code).toBe(1);
  expect(r.err).toContain('unknown connection "mysql_prod"');
  expect(r.err).toContain('known connections: mysql_badpin, mysql_direct, mysql_down, mysql_envpw, mysql_tunnel');
  expect(r.err).toContain('duckdb_local');
  expect((await hw('connections', 'info', 'nope')).code).toBe(1);
  const neither = await hw('connections', 'test');
  expect(neither.code).toBe(1);
  expect(neither.err).toContain('--all');
  expect((await hw('connections', 'test', 'mysql_direct', '--all')).code).toBe(1);
});

test('health checks everything at once: a line per connection, exit 2 when any is down', async () => {
  const r = await hw('connections', 'health', '--timeout', '2');
  expect(r.code).toBe(2);
  expect(r.out).toMatch(/mysql_direct\s+source mysql\s+ok\s+\d+ ms\s+none/);
  expect(r.out).toMatch(/mysql_tunnel\s+source mysql\s+ok\s+\d+ ms\s+up/);
  expect(r.out).toMatch(/mysql_badpin\s+source mysql\s+FAILED\s+\d+ ms\s+down\s+ssh /);
  expect(r.out).toMatch(
    new RegExp(`mysql_down\\s+source mysql\\s+FAILED\\s+\\d+ ms\\s+none\\s+mysql 127\\.0\\.0\\.1:${closedPort}`),
  );
  expect(r.out).toMatch(/duckdb_local\s+target duckdb\s+ok/);
  expect(r.out).toContain('3 of 6 connections down');
  expect(r.out + r.err).not.toContain(LITERAL_PASSWORD);

  const j = await hw('connections', 'health', '--timeout', '2', '--json');
  expect(j.code).toBe(2);
  const probes = JSON.parse(j.out) as { connection: string; ok: boolean; tunnel: string }[];
  expect(Object.fromEntries(probes.map((p) => [p.connection, p.ok]))).toEqual({
    mysql_badpin: false,
    mysql_direct: true,
    mysql_down: false,
    mysql_envpw: false,
    mysql_tunnel: true,
    duckdb_local: true,
  });
});

test('info shows every setting with secrets masked: literal as ***, an env reference as the reference', async () => {
  const down = await hw('connections', 'info', 'mysql_down');
  expect(down.code, down.err).toBe(0);
  expect(down.out).toMatch(/host\s+127\.0\.0\.1/);
  expect(down.out).toMatch(/username\s+reader/);
  expect(down.out).toMatch(/password\s+\*\*\*/);
  expect(down.out + down.err).not.toContain(LITERAL_PASSWORD);

  const envpw = await hw('connections', 'info', 'mysql_envpw', '--json');
  const [e] = JSON.parse(envpw.out) as { settings: Record<string, string> }[];
  expect(e?.settings.password).toBe(`\${HW_TEST_PASSWORD} (set)`);
  expect(envpw.out + envpw.err).not.toContain(ENV_PASSWORD);

  const tun = await hw('connections', 'info', 'mysql_tunnel');
  expect(tun.out).toMatch(/ssh_tunnel\.private_key_path\s+\S+bastion_key/);
  expect(tun.out).toMatch(/ssh_tunnel\.host_key_sha256\s+SHA256:/);
  expect(tun.out).toContain(sshd.hostKeySha256);

  const pin = await hw('connections', 'info', 'mysql_badpin');
  expect(pin.out).toMatch(/ssh_tunnel\.private_key\s+\*\*\*/);
  expect(pin.out + pin.err).not.toContain('OPENSSH PRIVATE KEY');
});
