/**
 * The SSH tunnel against a real OpenSSH server (test/support/sshd.ts) forwarding to the run's private MariaDB and
 * to a local echo server the test controls.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createMysqlSource } from '../../lambdas/adapters/mysql/index.js';
import {
  createTunneledMysqlSource,
  HostKeyMismatchError,
  openTunnel,
  type Tunnel,
  type TunnelOptions,
} from '../../lambdas/adapters/ssh-tunnel/index.js';
import { ConfigError, ConnectionError } from '../../lambdas/errors.js';
import type { RawRow, SourceReader } from '../../lambdas/ports/index.js';
import { freePort } from '../support/free-port.js';
import { type SshdInstance, startSshd } from '../support/sshd.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';

const SMALL_ROWS = 5_000;
const BIG_ROWS = 200_000;

let db: TestDatabase;
let sshd: SshdInstance;
let echo: Server;
let echoPort: number;
/** Permitted by sshd, but nothing listens there. */
let deadPort: number;
/** Sockets the echo server accepted, so tests can see when the far end of a channel opens and closes. */
const echoSockets: Socket[] = [];

function tunnelOptions(extra: Partial<TunnelOptions> = {}): TunnelOptions {
  return {
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    privateKey: sshd.privateKey,
    hostKeySha256: sshd.hostKeySha256,
    connectTimeoutSeconds: 5,
    keepaliveSeconds: 5,
    ...extra,
  };
}

async function collect(rows: AsyncIterable<RawRow>): Promise<RawRow[]> {
  const out: RawRow[] = [];
  for await (const r of rows) out.push(r);
  return out;
}

function closed(s: Duplex | Socket): Promise<void> {
  return new Promise((resolve) => (s.destroyed && s.closed ? resolve() : s.once('close', () => resolve())));
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    if (e instanceof Error) return e;
    throw new Error(`rejected with a non-Error: ${String(e)}`);
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  db = await createTestDatabase('tun');
  await db.conn.query(`
    CREATE TABLE small (id INT NOT NULL PRIMARY KEY, name VARCHAR(40) NOT NULL, amount DECIMAL(12,2) NULL,
                        at DATETIME NOT NULL, doc JSON NULL);
    INSERT INTO small
      SELECT seq, CONCAT('row ', seq, IF(seq % 7 = 0, ' 😀', '')), IF(seq % 5 = 0, NULL, seq * 1.25),
             '2024-01-01 00:00:00' + INTERVAL seq SECOND, IF(seq % 3 = 0, JSON_OBJECT('n', seq), NULL)
      FROM seq_1_to_${SMALL_ROWS};
    CREATE TABLE big (id INT NOT NULL PRIMARY KEY, pad CHAR(100) NOT NULL);
    INSERT INTO big SELECT seq, REPEAT('x', 100) FROM seq_1_to_${BIG_ROWS};`);
  echo = createServer((s) => {
    echoSockets.push(s);
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const addr = echo.address();
  if (addr === null || typeof addr === 'string') throw new Error('echo server has no port');
  echoPort = addr.port;
  deadPort = await freePort();
  sshd = await startSshd({ permitOpen: [`${db.host}:${db.port}`, `127.0.0.1:${echoPort}`, `127.0.0.1:${deadPort}`] });
});

afterAll(async () => {
  for (const s of echoSockets) s.destroy();
  await new Promise<void>((resolve) => (echo ? echo.close(() => resolve()) : resolve()));
  await sshd?.stop();
  await db?.drop();
});

describe('streaming MySQL through the tunnel', () => {
  let tunnel: Tunnel;
  let direct: SourceReader;
  let tunneled: SourceReader;

  beforeAll(async () => {
    tunnel = await openTunnel(tunnelOptions());
    direct = createMysqlSource({ ...db, user: db.user });
    tunneled = await createTunneledMysqlSource({ ...db, tunnel });
  });

  afterAll(async () => {
    await tunneled?.close();
    await direct?.close();
    await tunnel?.close();
  });

  test('rows streamed through the tunnel equal rows streamed directly', async () => {
    const sql = 'SELECT * FROM small ORDER BY id';
    const [viaTunnel, viaTcp] = await Promise.all([collect(tunneled.stream(sql)), collect(direct.stream(sql))]);
    expect(viaTunnel).toHaveLength(SMALL_ROWS);
    expect(viaTunnel).toEqual(viaTcp);
    expect(viaTunnel[6]?.[1]?.toString()).toBe('row 7 😀');
  });

  test('query() and describeTable() work through the tunnel; the pin was checked', async () => {
    expect(tunnel.hostKeyPinned).toBe(true);
    expect(tunnel.hostKeySha256).toBe(sshd.hostKeySha256);
    expect(tunnel.target).toBe(`${sshd.username}@${sshd.host}:${sshd.port}`);
    const rows = await tunneled.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM big WHERE id <= ?', [1234]);
    expect(Number(rows[0]?.n)).toBe(1234);
    const t = await tunneled.describeTable(db.database, 'small');
    expect(t.columns.map((c) => c.name)).toEqual(['id', 'name', 'amount', 'at', 'doc']);
  });

  test("closing the source leaves the caller's tunnel open", async () => {
    const s = await createTunneledMysqlSource({ ...db, tunnel });
    expect(await collect(s.stream('SELECT id FROM small WHERE id <= 3'))).toHaveLength(3);
    await s.close();
    expect(tunnel.closed).toBe(false);
    expect(await collect(tunneled.stream('SELECT id FROM small WHERE id <= 2'))).toHaveLength(2);
  });
});

describe('host key pinning', () => {
  test('a wrong pinned host key is refused before logging in, naming both fingerprints', async () => {
    const before = sshd.log().match(/Accepted publickey/g)?.length ?? 0;
    const wrong = `SHA256:${Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '')}`;
    const err = await rejection(openTunnel(tunnelOptions({ hostKeySha256: wrong })));
    expect(err).toBeInstanceOf(HostKeyMismatchError);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).transient).toBe(false);
    expect(err.message).toContain('host key did not match');
    expect(err.message).toContain(`expected ${wrong}`);
    expect(err.message).toContain(`got ${sshd.hostKeySha256}`);
    // sshd logs the client's disconnect with reason 3 (host key not verifiable) before authentication.
    await expect.poll(() => sshd.log(), { timeout: 5_000 }).toMatch(/Received disconnect from .*:3: .*\[preauth\]/);
    expect(sshd.log().match(/Accepted publickey/g)?.length ?? 0).toBe(before);
  });

  test('a pin with base64 padding is accepted; a malformed pin is a ConfigError before connecting', async () => {
    const t = await openTunnel(tunnelOptions({ hostKeySha256: `${sshd.hostKeySha256}=` }));
    expect(t.hostKeyPinned).toBe(true);
    await t.close();
    const err = await rejection(openTunnel(tunnelOptions({ hostKeySha256: 'MD5:aa:bb' })));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('MD5:aa:bb');
    expect(err.message).toContain(`${sshd.username}@${sshd.host}:${sshd.port}`);
  });

  test('without a pin, checkHostKey decides before login: an accepted key is checked, a refusal is the error', async () => {
    const seen: string[] = [];
    const t = await openTunnel(
      tunnelOptions({ hostKeySha256: undefined, checkHostKey: async (fp) => void seen.push(fp) }),
    );
    expect(seen).toEqual([sshd.hostKeySha256]);
    expect(t.hostKeyPinned).toBe(true);
    await t.close();
    const before = sshd.log().match(/Accepted publickey/g)?.length ?? 0;
    const refusal = new HostKeyMismatchError('x', 'SHA256:a', sshd.hostKeySha256, '2026-01-01T00:00:00.000Z');
    const err = await rejection(
      openTunnel(
        tunnelOptions({
          hostKeySha256: undefined,
          checkHostKey: async () => {
            throw refusal;
          },
        }),
      ),
    );
    expect(err).toBe(refusal);
    expect(err.message).toContain('changed since it was first seen on 2026-01-01T00:00:00.000Z');
    expect(sshd.log().match(/Accepted publickey/g)?.length ?? 0).toBe(before);
  });

  test('without a pin the tunnel connects and reports the fingerprint it saw', async () => {
    const t = await openTunnel(tunnelOptions({ hostKeySha256: undefined }));
    expect(t.hostKeyPinned).toBe(false);
    expect(t.hostKeySha256).toBe(sshd.hostKeySha256);
    await t.close();
  });
});

describe('forwarding', () => {
  let tunnel: Tunnel;
  beforeAll(async () => {
    tunnel = await openTunnel(tunnelOptions());
  });
  afterAll(async () => {
    await tunnel?.close();
  });

  test('a port not in PermitOpen is a ConnectionError naming the destination', async () => {
    const port = await freePort();
    const err = await rejection(tunnel.forward('127.0.0.1', port));
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.message).toContain(`could not open a channel to 127.0.0.1:${port}`);
    expect((err as ConnectionError).suggestion).toContain('PermitOpen');
    // The same through the MySQL source: its first session fails with the tunnel's error, not a MySQL one.
    const s = await createTunneledMysqlSource({ ...db, port, tunnel });
    const viaSource = await rejection(s.query('SELECT 1'));
    expect(viaSource).toBeInstanceOf(ConnectionError);
    expect(viaSource.message).toContain(`127.0.0.1:${port}`);
    await s.close();
    expect(tunnel.closed).toBe(false);
  });

  test('a permitted destination nobody listens on names it and suggests checking the address', async () => {
    const err = await rejection(tunnel.forward('127.0.0.1', deadPort));
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.message).toContain(`could not open a channel to 127.0.0.1:${deadPort}`);
    expect((err as ConnectionError).suggestion).toContain('could not reach');
  });

  test('a lazily forwarded stream queues writes until the channel opens', async () => {
    const s = tunnel.forwardLazily('127.0.0.1', echoPort);
    s.write('hello ');
    s.write('tunnel');
    const received: Buffer[] = [];
    await new Promise<void>((resolve) => {
      s.on('data', (d: Buffer) => {
        received.push(d);
        if (Buffer.concat(received).length >= 12) resolve();
      });
    });
    expect(Buffer.concat(received).toString()).toBe('hello tunnel');
    s.end();
    await closed(s);
  });

  test('a lazily forwarded stream destroyed before it opened closes the channel once it opens', async () => {
    const accepted = echoSockets.length;
    const s = tunnel.forwardLazily('127.0.0.1', echoPort);
    s.destroy();
    await expect.poll(() => echoSockets.length, { timeout: 5_000 }).toBe(accepted + 1);
    const far = echoSockets[accepted]!;
    await closed(far);
    expect(far.destroyed).toBe(true);
  });
});

describe('failures', () => {
  test('the tunnel dropping mid-stream rejects the iteration with a transient ConnectionError, promptly', async () => {
    const tunnel = await openTunnel(tunnelOptions());
    const drops: (ConnectionError | undefined)[] = [];
    tunnel.onClose((e) => drops.push(e));
    const source = await createTunneledMysqlSource({ ...db, tunnel });
    let rows = 0;
    let killedAt = 0;
    const err = await rejection(
      (async () => {
        for await (const _ of source.stream('SELECT * FROM big ORDER BY id')) {
          rows++;
          if (rows === 1) {
            await sshd.killConnections();
            killedAt = Date.now();
          }
        }
      })(),
    );
    const tookMs = Date.now() - killedAt;
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).transient).toBe(true);
    expect(err.message).toContain(`SSH tunnel ${tunnel.target}`);
    expect(rows).toBeLessThan(BIG_ROWS);
    expect(tookMs).toBeLessThan(10_000);
    console.info(`tunnel drop: ${rows} rows read, iteration rejected ${tookMs} ms after the kill`);
    expect(tunnel.closed).toBe(true);
    expect(drops).toHaveLength(1);
    expect(drops[0]).toBeInstanceOf(ConnectionError);
    const late: (ConnectionError | undefined)[] = [];
    tunnel.onClose((e) => late.push(e));
    expect(late).toEqual([drops[0]]);
    await source.close();
    await tunnel.close();
  });

  test('a bastion that stops answering is detected by keepalives, and the stream rejects', async () => {
    const tunnel = await openTunnel(tunnelOptions({ keepaliveSeconds: 1 }));
    const source = await createTunneledMysqlSource({ ...db, tunnel });
    let frozenAt = 0;
    const err = await rejection(
      (async () => {
        for await (const _ of source.stream('SELECT * FROM big ORDER BY id')) {
          if (frozenAt === 0) {
            await sshd.freezeConnections();
            frozenAt = Date.now();
          }
        }
      })(),
    );
    const tookMs = Date.now() - frozenAt;
    await sshd.killConnections(); // the stopped processes are of no further use
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).transient).toBe(true);
    expect(err.message).toContain(`SSH tunnel ${tunnel.target} dropped: Keepalive timeout`);
    // Three unanswered keepalives one second apart, then the fourth tick gives up.
    expect(tookMs).toBeGreaterThanOrEqual(2_500);
    expect(tookMs).toBeLessThan(8_000);
    console.info(`tunnel freeze: iteration rejected ${tookMs} ms after the bastion stopped answering`);
    await source.close();
    await tunnel.close();
  });

  test('a server that accepts TCP but never speaks SSH times out after about connectTimeoutSeconds', async () => {
    const silent = createServer((s) => s.on('error', () => undefined));
    const held: Socket[] = [];
    silent.on('connection', (s) => held.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const addr = silent.address();
    if (addr === null || typeof addr === 'string') throw new Error('no port');
    const started = Date.now();
    const err = await rejection(
      openTunnel(tunnelOptions({ port: addr.port, connectTimeoutSeconds: 1, hostKeySha256: undefined })),
    );
    const tookMs = Date.now() - started;
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).transient).toBe(true);
    expect(err.message).toContain(`${sshd.username}@127.0.0.1:${addr.port}`);
    expect(err.message).toContain('Timed out');
    expect(tookMs).toBeGreaterThanOrEqual(900);
    expect(tookMs).toBeLessThan(3_000);
    for (const s of held) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  test('a refused connection is a transient ConnectionError naming user@host:port', async () => {
    const port = await freePort();
    const err = await rejection(openTunnel(tunnelOptions({ port })));
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).transient).toBe(true);
    expect(err.message).toContain(`SSH tunnel ${sshd.username}@127.0.0.1:${port}: connection failed`);
    expect(err.message).toContain('ECONNREFUSED');
  });

  test('a key the bastion does not know fails authentication, without showing the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-key-'));
    try {
      await promisify(execFile)('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')]);
      const stranger = readFileSync(join(dir, 'k'), 'utf8');
      const err = await rejection(openTunnel(tunnelOptions({ privateKey: stranger })));
      expect(err).toBeInstanceOf(ConnectionError);
      expect(err.message).toContain('authentication methods failed');
      expect((err as ConnectionError).suggestion).toContain('authorized_keys');
      expect(err.message).not.toContain(stranger.split('\n')[1]!);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an unusable private key is a ConfigError that does not show the key', async () => {
    const garbage = 'not-a-key-but-secret-material-0123456789';
    const err = await rejection(openTunnel(tunnelOptions({ privateKey: garbage })));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('private key cannot be used');
    expect(err.message).not.toContain(garbage);
  });
});

describe('close()', () => {
  test('is idempotent, closes forwarded streams and the far ends, and refuses new forwards', async () => {
    const tunnel = await openTunnel(tunnelOptions());
    const closes: (ConnectionError | undefined)[] = [];
    tunnel.onClose((e) => closes.push(e));
    const removed: (ConnectionError | undefined)[] = [];
    tunnel.onClose((e) => removed.push(e))();
    const mysqlChannel = await tunnel.forward(db.host, db.port);
    const greeting = await new Promise<Buffer>((resolve) => mysqlChannel.once('data', resolve));
    expect(greeting.length).toBeGreaterThan(10); // MariaDB's handshake packet came through the channel
    const accepted = echoSockets.length;
    const echoChannel = await tunnel.forward('127.0.0.1', echoPort);
    await expect.poll(() => echoSockets.length).toBe(accepted + 1);

    await Promise.all([tunnel.close(), tunnel.close()]);
    await tunnel.close();
    expect(tunnel.closed).toBe(true);
    expect(mysqlChannel.destroyed).toBe(true);
    expect(echoChannel.destroyed).toBe(true);
    await closed(echoSockets[accepted]!);
    expect(closes).toEqual([undefined]); // closed on purpose, not dropped
    expect(removed).toEqual([]);
    const err = await rejection(tunnel.forward('127.0.0.1', echoPort));
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.message).toContain(`is closed; cannot forward to 127.0.0.1:${echoPort}`);
    const srcErr = await rejection(createTunneledMysqlSource({ ...db, tunnel }));
    expect(srcErr).toBeInstanceOf(ConnectionError);
    expect(srcErr.message).toContain(`cannot reach MySQL at ${db.host}:${db.port}`);
  });
});
