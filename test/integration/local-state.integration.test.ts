import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalStateStore } from '../../lambdas/adapters/local-state/index.js';
import { describeStateStoreContract } from '../contract/state-store.contract.js';

describeStateStoreContract('local SQLite', async (clock) => {
  const dir = await mkdtemp(join(tmpdir(), 'hw-state-'));
  const store = createLocalStateStore({ path: join(dir, 'state.db'), now: clock.now });
  return {
    store,
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
