/**
 * Builds the Highwater app the way bin/app.ts does, from the repository's cdk.json context, for the stack tests.
 * Bundling is skipped (`aws:cdk:bundling-stacks: []`; bundling.test.ts covers it) and so is CDK's built-in
 * CloudFormation validation (it alone takes 8–18 s per synth here); both only change what the assets hold.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { loadConfig } from '../../lambdas/engine/config/index.js';
import { buildHighwaterApp } from '../../lib/highwater-app.js';
import type { HighwaterStack } from '../../lib/highwater-stack.js';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(resolve(projectRoot, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return cdkJson.context;
}

export async function buildTestApp(
  context: Record<string, unknown> = {},
): Promise<{ app: App; stacks: Record<string, HighwaterStack> }> {
  const app = new App({
    builtinCloudFormationValidation: false,
    context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], ...context },
  });
  const built = await buildHighwaterApp(app, { projectRoot, loadConfig });
  return { app, stacks: Object.fromEntries(built.map((s) => [s.stackName.replace(/^Highwater-/, ''), s])) };
}
