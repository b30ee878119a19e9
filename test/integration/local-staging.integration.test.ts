import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalStaging } from '../../lambdas/adapters/local-staging/index.js';
import { describeStagingContract } from '../contract/staging.contract.js';

describeStagingContract('local directory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hw-staging-'));
  return {
    staging: createLocalStaging({ root: join(dir, 'staging') }),
    async cleanup() {
      await rm(dir, { recursive: true, force: true });
    },
  };
});
