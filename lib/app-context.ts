/**
 * The CDK context Highwater reads (cdk.json `context`, or `-c key=value`), parsed with zod so a typo in cdk.json is
 * an error that names the environment and key instead of a stack that silently lacks a VPC or an alarm email.
 */
import { z } from 'zod';
import { ConfigError } from '../lambdas/errors.js';

const EnvironmentSchema = z
  .object({
    account: z.string().regex(/^\d{12}$/, 'an AWS account id is 12 digits'),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as us-east-1'),
    vpcId: z.string().startsWith('vpc-').optional(),
    subnetIds: z.array(z.string().startsWith('subnet-')).min(1).optional(),
    securityGroupIds: z.array(z.string().startsWith('sg-')).min(1).optional(),
    stagedFileExpiryDays: z.number().int().min(1).default(7),
    alarmEmail: z.email().optional(),
    /** Workgroup ARNs (they carry the workgroup id, which the pipelines' workgroup names do not). */
    redshiftWorkgroupArns: z.array(z.string().startsWith('arn:')).min(1).optional(),
  })
  .strict()
  .refine((e) => (e.subnetIds === undefined && e.securityGroupIds === undefined) || e.vpcId !== undefined, {
    message: 'subnetIds and securityGroupIds need vpcId',
  })
  .refine((e) => e.vpcId === undefined || e.subnetIds !== undefined, { message: 'vpcId needs subnetIds' });

export type EnvironmentContext = z.infer<typeof EnvironmentSchema>;

export interface AppContext {
  /** The environments to synthesize: the one named by `-c env=NAME`, or all of them. */
  readonly environments: ReadonlyArray<{ readonly name: string; readonly settings: EnvironmentContext }>;
  readonly configDir: string;
  /** Delete the bucket and table with the stack (`-c removeDataOnDestroy=true`); otherwise they are retained. */
  readonly removeDataOnDestroy: boolean;
}

/** Reads a context value the way CDK hands it over: `-c` values arrive as strings, cdk.json values as JSON. */
export type ContextReader = (key: string) => unknown;

function parseFlag(value: unknown, key: string): boolean {
  if (value === undefined) return false;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ConfigError(`context ${key} must be true or false, got ${JSON.stringify(value)}`);
}

export function readAppContext(get: ContextReader): AppContext {
  const raw = get('environments');
  const envs = z.record(z.string(), z.unknown()).safeParse(raw);
  if (!envs.success || Object.keys(envs.data).length === 0) {
    throw new ConfigError('cdk.json context.environments must map environment names to settings', {
      suggestion: 'See docs/deploy.md for the keys of an environment.',
    });
  }
  const wanted = get('env');
  if (wanted !== undefined && (typeof wanted !== 'string' || !(wanted in envs.data))) {
    throw new ConfigError(
      `context env=${JSON.stringify(wanted)} is not in cdk.json context.environments (${Object.keys(envs.data).join(', ')})`,
    );
  }
  const names = wanted === undefined ? Object.keys(envs.data) : [wanted];
  const environments = names.map((name) => {
    const parsed = EnvironmentSchema.safeParse(envs.data[name]);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const key = issue?.path.join('.') || '(environment)';
      throw new ConfigError(`cdk.json context.environments.${name}.${key}: ${issue?.message ?? 'invalid'}`);
    }
    return { name, settings: parsed.data };
  });
  const configDir = get('configDir') ?? 'pipelines';
  if (typeof configDir !== 'string' || configDir === '') throw new ConfigError('context configDir must be a path');
  return { environments, configDir, removeDataOnDestroy: parseFlag(get('removeDataOnDestroy'), 'removeDataOnDestroy') };
}
