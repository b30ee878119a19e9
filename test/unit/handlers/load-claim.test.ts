/** withLoadClaim over the real SQLite state store: waiting for a held claim, giving up in time, keeping it held. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { LoadClaimHeldError } from '../../../lambdas/errors.js';
import { withLoadClaim } from '../../../lambdas/handlers/load-claim.js';
import { createLocalStateStore } from '../../../lambdas/local/adapters/local-state/index.js';
import type { StateStore } from '../../../lambdas/ports/index.js';
import { deadlineIn } from '../../../lambdas/ports/step-context.js';

const KEY = 'p/s/shop.orders/w';
let dir: string;
let store: StateStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hw-claim-'));
  store = createLocalStateStore({ path: join(dir, 'state.sqlite') });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const soon = (ms: number) => new Date(Date.now() + ms).toISOString();

test('waits while another attempt holds the claim, then runs with its statements and releases', async () => {
  await store.claimLoad(KEY, { runId: 'r1', attempt: 'first', until: soon(60_000) });
  await store.recordLoadStatement(KEY, 'first', {
    id: 's1',
    runId: 'r1',
    phase: 'apply',
    submittedAt: new Date().toISOString(),
  });
  setTimeout(() => void store.releaseLoad(KEY, 'first'), 100);
  const seen = await withLoadClaim(store, KEY, 'r1', deadlineIn(60_000), async (j) => j.earlier.map((s) => s.id), {
    pollMs: 20,
    reserveMs: 0,
  });
  expect(seen).toEqual(['s1']);
  expect(await store.getLoadClaim(KEY)).toMatchObject({ runId: 'r1', released: true });
});

test('gives up with a transient LoadClaimHeldError when its own time runs short, without running the load', async () => {
  await store.claimLoad(KEY, { runId: 'r1', attempt: 'first', until: soon(60_000) });
  let ran = false;
  const err = await withLoadClaim(
    store,
    KEY,
    'r1',
    deadlineIn(300),
    async () => {
      ran = true;
    },
    { pollMs: 20, reserveMs: 200 },
  ).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LoadClaimHeldError);
  expect((err as LoadClaimHeldError).transient).toBe(true);
  expect(ran).toBe(false);
  expect(await store.getLoadClaim(KEY)).toMatchObject({ attempt: 'first', released: false });
});

test('releases after a failed load, but keeps the claim when the load left a statement running', async () => {
  const boom = new Error('load failed');
  await expect(withLoadClaim(store, KEY, 'r1', deadlineIn(60_000), async () => Promise.reject(boom))).rejects.toBe(
    boom,
  );
  expect((await store.getLoadClaim(KEY))?.released).toBe(true);
  await expect(
    withLoadClaim(store, KEY, 'r2', deadlineIn(60_000), async (j) => {
      j.markUnsettled();
      throw boom;
    }),
  ).rejects.toBe(boom);
  expect(await store.getLoadClaim(KEY)).toMatchObject({ runId: 'r2', released: false });
});
