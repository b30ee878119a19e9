/**
 * An unpinned bastion (real OpenSSH on loopback): a local run remembers its key on first use in the state store
 * and refuses a different one later, naming both fingerprints; a deployed runtime (AdapterSet.unpinnedHostKeys
 * `refuse`, as the Lambdas' AWS set has it) refuses it before connecting unless the YAML accepts unpinned keys.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, inject, test } from 'vitest';
import { loadConfig } from '../../lambdas/engine/config/index.js';
import { ConfigError } from '../../lambdas/errors.js';
import { allAdapters } from '../../lambdas/local/runtime.js';
import { createRuntimeWith } from '../../lambdas/runtime/create.js';
import { createHarness, type Harness } from '../support/harness.js';
import { type SshdInstance, startSshd } from '../support/sshd.js';
import { createOrders, insertOrders, T1 } from './fixtures.js';

let sshd: SshdInstance;
let keyPath: string;
let h: Harness | undefined;

beforeAll(async () => {
  const maria = inject('mariadb');
  sshd = await startSshd({ permitOpen: [`127.0.0.1:${maria.port}`] });
  keyPath = join(process.env.TMPDIR ?? '/tmp', `hw-hostkey-key-${process.pid}`);
  writeFileSync(keyPath, sshd.privateKey, { mode: 0o600 });
});
afterAll(async () => sshd?.stop());
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

async function unpinned(accept = false): Promise<Harness> {
  const harness = await createHarness('hk', undefined, {
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    privateKeyPath: keyPath,
    acceptUnpinnedHostKey: accept,
  });
  await createOrders(harness);
  await insertOrders(harness, [1, 2, 3], T1);
  harness.writePipeline(`  ${harness.db.database}.orders:\n    cdc_strategy: hybrid\n    lag: 0`);
  return harness;
}

const bastion = () => `${sshd.host}:${sshd.port}`;

test('locally the first key is remembered; a different one later is refused, naming both fingerprints', async () => {
  h = await unpinned();
  const table = `${h.db.database}.orders`;
  const first = await h.sync([table]);
  expect(first.tables[0]?.error).toBeNull();
  const rt = await h.runtime();
  try {
    const state = await rt.state(rt.pipeline('test'));
    // Remembered: asking again with another key hands back the first one.
    const other = `SHA256:${'C'.repeat(43)}`;
    expect(await state.rememberHostKey(bastion(), other)).toMatchObject({ fingerprint: sshd.hostKeySha256 });
  } finally {
    await rt.close();
  }

  // The same bastion, now presenting a key that is not the remembered one: simulated by a store that remembered
  // another key first (a fresh harness home with that record).
  await h.cleanup();
  const second = await unpinned();
  h = second;
  const rt2 = await second.runtime();
  const remembered = `SHA256:${'D'.repeat(43)}`;
  try {
    await (await rt2.state(rt2.pipeline('test'))).rememberHostKey(bastion(), remembered);
  } finally {
    await rt2.close();
  }
  const before = sshd.log().match(/Accepted publickey/g)?.length ?? 0;
  const refused = await second.sync([`${second.db.database}.orders`]);
  expect(refused.status).toBe('failed');
  const error = refused.tables[0]?.error ?? '';
  expect(error).toContain(`the host key changed since it was first seen`);
  expect(error).toContain(`remembered ${remembered}, now ${sshd.hostKeySha256}`);
  expect(refused.tables[0]?.suggestion).toContain(`host_key_sha256: ${sshd.hostKeySha256}`);
  expect(sshd.log().match(/Accepted publickey/g)?.length ?? 0).toBe(before);
  expect(await second.watermark(`${second.db.database}.orders`)).toBeUndefined();
});

test('a deployed runtime refuses an unpinned bastion before connecting, unless accept_unpinned_host_key is set', async () => {
  const deployed = { ...allAdapters, unpinnedHostKeys: 'refuse' as const };
  h = await unpinned();
  const open = async (harness: Harness) => {
    const config = await loadConfig({ cwd: harness.dir, configDir: harness.configDir, home: harness.home, env: {} });
    const rt = createRuntimeWith(deployed, config);
    try {
      const source = await rt.openSource(rt.pipeline('test'));
      await source.close();
    } finally {
      await rt.close();
    }
  };
  const before = sshd.log().match(/Connection from|Accepted publickey/g)?.length ?? 0;
  const err = await open(h).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as Error).message).toBe(
    `source mysql_test: the bastion ${bastion()} has no pinned host key (ssh_tunnel.host_key_sha256), and a deployed run does not connect to an unpinned bastion`,
  );
  expect((err as ConfigError).suggestion).toContain('accept_unpinned_host_key: true');
  expect(sshd.log().match(/Connection from|Accepted publickey/g)?.length ?? 0).toBe(before);

  await h.cleanup();
  h = await unpinned(true);
  await expect(open(h)).resolves.toBeUndefined();
});
