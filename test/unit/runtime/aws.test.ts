/** The Lambda runtime's adapter set: AWS kinds only, and a local kind in the YAML refused by name. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lambdas/errors.js';
import { awsAdapters } from '../../../lambdas/runtime/aws.js';

async function refusal(f: () => Promise<unknown>): Promise<ConfigError> {
  try {
    await f();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('awsAdapters', () => {
  it('refuses local staging, local state and a DuckDB target, naming each and saying what to use', async () => {
    const staging = await refusal(() => awsAdapters.staging({ type: 'local', root: 'staging' }, '/tmp/x'));
    expect(staging.message).toBe('staging type local is local-only and not available in this runtime');
    expect(staging.suggestion).toContain('staging type s3');
    expect((await refusal(() => awsAdapters.state({ type: 'local', path: 'state.db' }, '/tmp/x'))).message).toContain(
      'state type local',
    );
    expect(
      (
        await refusal(() =>
          awsAdapters.warehouse({ type: 'duckdb', name: 'lake', path: 'w.duckdb', schema: 'main' }, '/x'),
        )
      ).message,
    ).toContain('target lake (type duckdb)');
  });

  it('refuses a Redshift target without the COPY role', async () => {
    const e = await refusal(() =>
      awsAdapters.warehouse({ type: 'redshift', name: 'dw', schema: 'public', database: 'dev', workgroup: 'wg' }, 'x'),
    );
    expect(e.message).toBe('target dw: iam_role_arn is required for COPY from S3');
  });

  it('builds the AWS kinds without touching the network', async () => {
    expect(typeof (await awsAdapters.staging({ type: 's3', bucket: 'hw-staging', prefix: '' }, 'x')).locate).toBe(
      'function',
    );
    expect(typeof (await awsAdapters.state({ type: 'dynamodb', table: 't', region: 'us-east-1' }, 'x')).getLease).toBe(
      'function',
    );
  });
});
