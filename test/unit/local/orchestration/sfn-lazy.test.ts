/**
 * The deferred imports of the Step Functions library (lambdas/local/orchestration/sfn-lazy/): which imports the hook
 * redirects, that each stand-in builds and calls the real thing, and, in a child process on the built code, that a
 * local state machine runs without loading the AWS SDK's Lambda client at all.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import aslValidator from '../../../../lambdas/local/orchestration/sfn-lazy/asl-validator.js';
import { InvokeCommand, LambdaClient } from '../../../../lambdas/local/orchestration/sfn-lazy/client-lambda.js';
import { fromCognitoIdentityPool } from '../../../../lambdas/local/orchestration/sfn-lazy/credential-providers.js';
import {
  DEFERRED_IMPORTS,
  deferringResolve,
  deferStepFunctionsLibraryImports,
  libraryUrl,
} from '../../../../lambdas/local/orchestration/sfn-lazy/hooks.js';
import { deferredFunction, realClass } from '../../../../lambdas/local/orchestration/sfn-lazy/load-real.js';
import { ROOT } from '../../../support/cli.js';

const realRequire = createRequire(new URL('./', libraryUrl()));
const next = (specifier: string) => ({ url: `next:${specifier}` });

describe('the deferring resolve hook', () => {
  const resolve = deferringResolve(libraryUrl());

  it('sends each deferred import of the library to its stand-in', () => {
    for (const [specifier, standIn] of Object.entries(DEFERRED_IMPORTS)) {
      const r = resolve(specifier, { parentURL: libraryUrl() }, next);
      expect(r.shortCircuit).toBe(true);
      expect(r.url).toMatch(new RegExp(`/sfn-lazy/${standIn.slice(2).replace('.', '\\.')}$`));
    }
  });

  it('leaves the same specifiers alone when anything else imports them, and the library’s other imports', () => {
    expect(resolve('@aws-sdk/client-lambda', { parentURL: pathToFileURL(join(ROOT, 'x.js')).href }, next).url).toBe(
      'next:@aws-sdk/client-lambda',
    );
    expect(resolve('@aws-sdk/client-lambda', {}, next).url).toBe('next:@aws-sdk/client-lambda');
    expect(resolve('p-limit', { parentURL: libraryUrl() }, next).url).toBe('next:p-limit');
  });

  it('registers only where Node.js has synchronous hooks', () => {
    expect(deferStepFunctionsLibraryImports({})).toBe(false);
    const registered: unknown[] = [];
    expect(deferStepFunctionsLibraryImports({ registerHooks: (hooks) => registered.push(hooks) })).toBe(true);
    expect(registered).toHaveLength(1);
  });

  it('registers nothing, and throws nothing, where the library is not installed', () => {
    const registered: unknown[] = [];
    const missing = () => {
      throw new Error("Cannot find package 'aws-local-stepfunctions'");
    };
    expect(deferStepFunctionsLibraryImports({ registerHooks: (hooks) => registered.push(hooks) }, missing)).toBe(false);
    expect(registered).toHaveLength(0);
  });
});

describe('the stand-ins', () => {
  it('build the real Lambda client and command', () => {
    const real = realRequire('@aws-sdk/client-lambda') as Record<string, new (...a: unknown[]) => object>;
    const client = new LambdaClient({ region: 'eu-west-1' });
    expect(client).toBeInstanceOf(real.LambdaClient!);
    const command = new InvokeCommand({ FunctionName: 'f', Payload: '{}' });
    expect(command).toBeInstanceOf(real.InvokeCommand!);
    expect((command as { input: { FunctionName: string } }).input.FunctionName).toBe('f');
  });

  it('call the real credential provider and validator', () => {
    expect(
      typeof fromCognitoIdentityPool({ identityPoolId: 'eu-west-1:x', clientConfig: { region: 'eu-west-1' } }),
    ).toBe('function');
    const valid = { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } };
    expect(aslValidator(valid, { checkArn: true, checkPaths: true })).toMatchObject({ isValid: true });
    expect(aslValidator({ StartAt: 'Nowhere', States: {} }, {})).toMatchObject({ isValid: false });
  });

  it('name the export a changed version no longer has', () => {
    expect(() => realClass('@aws-sdk/client-lambda', 'NoSuchClient')).toThrow(
      '@aws-sdk/client-lambda has no export NoSuchClient: its version changed',
    );
    // A module whose exports are not a function, where the stand-in calls the module itself (as asl-validator's).
    expect(() => deferredFunction('jsonpath-plus')()).toThrow(
      'jsonpath-plus does not export a function: its version changed',
    );
  });
});

/** Runs a one-Task machine (served by a local handler) in a child process; reports which deferred modules loaded. */
function runMachineInChild(defer: boolean) {
  const hooks = pathToFileURL(join(ROOT, 'dist/lambdas/local/orchestration/sfn-lazy/hooks.js')).href;
  const script = `
    import { createRequire } from 'node:module';
    const { deferStepFunctionsLibraryImports } = await import(${JSON.stringify(hooks)});
    if (${defer}) deferStepFunctionsLibraryImports();
    const { StateMachine } = await import('aws-local-stepfunctions');
    const arn = 'arn:aws:lambda:us-east-1:123456789012:function:f';
    const m = new StateMachine({ StartAt: 'T', States: { T: { Type: 'Task', Resource: arn, End: true } } },
      { validationOptions: { noValidate: true } });
    const out = await m.run({ n: 1 }, { overrides: { taskResourceLocalHandlers: { T: async (i) => ({ n: i.n + 1 }) } } }).result;
    const cache = Object.keys(createRequire(import.meta.url).cache);
    const loaded = ['client-lambda', 'credential-providers', 'asl-validator']
      .filter((p) => cache.some((f) => f.includes('/node_modules/' + (p === 'asl-validator' ? p : '@aws-sdk/' + p) + '/')));
    console.log(JSON.stringify({ out, loaded }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as { out: unknown; loaded: string[] };
}

describe('a local state machine on the built code', () => {
  it('runs without loading the Lambda client, the credential providers or the validator', () => {
    expect(runMachineInChild(true)).toEqual({ out: { n: 2 }, loaded: [] });
  });

  it('loads all three when nothing defers them (what the test above would see if the hook stopped working)', () => {
    expect(runMachineInChild(false)).toEqual({
      out: { n: 2 },
      loaded: ['client-lambda', 'credential-providers', 'asl-validator'],
    });
  });
});
