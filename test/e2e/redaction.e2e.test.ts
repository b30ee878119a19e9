/** Secrets never reach reports or retry messages: whatever a step's error says, resolved secret values are masked. */
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { RunEvent } from '../../lambdas/domain/manifests.js';
import { loadConfig } from '../../lambdas/engine/config/index.js';
import { ConnectionError } from '../../lambdas/errors.js';
import { runLocal } from '../../lambdas/local/orchestration/local-runner.js';
import { type StepHandlers, stepHandlers } from '../../lambdas/local/orchestration/step-handlers.js';
import { createRuntime } from '../../lambdas/local/runtime.js';
import { createHarness, type Harness } from '../support/harness.js';
import { createOrders, insertOrders, T1 } from './fixtures.js';

const SECRET = 'hunter2-very-secret-value';
let h: Harness;
beforeEach(async () => {
  h = await createHarness('redact');
  await createOrders(h);
  await insertOrders(h, [1, 2], T1);
  h.writePipeline(`  ${h.db.database}.orders:\n    cdc_strategy: hybrid\n    lag: 0`);
});
afterEach(async () => h.cleanup());

test('a step error quoting a secret is reported with the secret masked, in retries and in the report', async () => {
  const config = await loadConfig({ cwd: h.dir, configDir: h.configDir, home: h.home, env: {} });
  const rt = createRuntime(config, { HW_TEST_SECRET: SECRET });
  const leaky: StepHandlers = {
    ...stepHandlers,
    async extract(_input, runtime) {
      const value = await runtime.resolveSecret({ kind: 'env', name: 'HW_TEST_SECRET' }, 'test secret');
      throw new ConnectionError(`could not log in with password ${value}`);
    },
  };
  const events: RunEvent[] = [];
  try {
    const report = await runLocal(
      rt,
      { pipeline: 'test', tables: [`${h.db.database}.orders`] },
      { handlers: leaky, backoffMs: 1, onEvent: (e) => events.push(e) },
    );
    expect(report.status).toBe('failed');
    expect(report.tables[0]?.error).toContain('could not log in with password ***');
    const text = JSON.stringify({ report, events });
    expect(text).toContain('retry');
    expect(text).not.toContain(SECRET);
  } finally {
    await rt.close();
  }
});
