import { App } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/engine/config/index.js';
import { readAppContext } from '../../lib/app-context.js';
import { AwsSolutionsChecks } from '../../lib/cdk-nag.js';
import { deployedPipelines } from '../../lib/deployed-pipelines.js';
import { HighwaterStack } from '../../lib/highwater-stack.js';
import { nagAcknowledgements } from '../../lib/nag-suppressions.js';
import { buildTestApp, cdkJsonContext, projectRoot } from './build-app.js';

let built: Awaited<ReturnType<typeof buildTestApp>>;

beforeAll(async () => {
  built = await buildTestApp();
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged error or warning in any environment', () => {
    for (const [env, stack] of Object.entries(built.stacks)) {
      const report = new AwsSolutionsChecks().validateScope(stack);
      const findings = report.violations.map((v) => `${env}: ${v.ruleName} (${v.severity})`);
      expect(findings).toEqual([]);
    }
  });

  it('lets the app synthesize with the nag plugin registered (synth fails on a finding)', () => {
    const assembly = built.app.synth();
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual(['Highwater-dev', 'Highwater-prod']);
  });

  it('acknowledges only findings that exist: each acknowledgement matches a finding of the bare stack', async () => {
    // The same stack without the acknowledgements (buildHighwaterApp adds them).
    const app = new App({ context: { ...cdkJsonContext(), env: 'dev', 'aws:cdk:bundling-stacks': [] } });
    const ctx = readAppContext((k) => app.node.tryGetContext(k));
    const configDir = `${projectRoot}/pipelines`;
    const pipelines = deployedPipelines(await loadConfig({ cwd: projectRoot, configDir }));
    const bare = new HighwaterStack(app, 'Highwater-dev', {
      env: { account: '123456789012', region: 'us-east-1' },
      settings: ctx.environments[0]!.settings,
      pipelines,
      projectRoot,
      configDir,
    });
    const found = new Set(
      new AwsSolutionsChecks()
        .validateScope(bare)
        .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`)),
    );
    const acknowledged = nagAcknowledgements(bare).map((a) => `${a.id} Highwater-dev/${a.path}`);
    for (const a of acknowledged) {
      expect(
        [...found].some((f) => f.startsWith(a)),
        a,
      ).toBe(true);
    }
    // And nothing is left over: every finding of the bare stack is acknowledged somewhere.
    for (const f of found) {
      expect(
        acknowledged.some((a) => f.startsWith(a)),
        f,
      ).toBe(true);
    }
    expect(found.size).toBeGreaterThan(0);
  });
});
