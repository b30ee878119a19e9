/**
 * The Lambda functions' environment, read once per container. The pipelines are bundled with the function (copied
 * to /var/task/config by the build) and /tmp is the only writable place on Lambda, hence the defaults.
 */
import { z } from 'zod';
import { ConfigError } from '../errors.js';

export const FunctionEnvSchema = z.object({
  HIGHWATER_CONFIG_DIR: z.string().min(1).default('/var/task/config'),
  HIGHWATER_HOME: z.string().min(1).default('/tmp/highwater'),
  POWERTOOLS_SERVICE_NAME: z.string().min(1).default('highwater'),
  POWERTOOLS_METRICS_NAMESPACE: z.string().min(1).default('Highwater'),
  POWERTOOLS_LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT', 'CRITICAL']).default('INFO'),
  /** Set by the stack; the bundled YAML refers to them as ${HIGHWATER_STAGING_BUCKET} / ${HIGHWATER_STATE_TABLE}. */
  HIGHWATER_STAGING_BUCKET: z.string().min(1).optional(),
  HIGHWATER_STATE_TABLE: z.string().min(1).optional(),
  /** Set by the stack: the role Redshift COPY assumes, for the YAML's `iam_role_arn: ${HIGHWATER_COPY_ROLE_ARN}`. */
  HIGHWATER_COPY_ROLE_ARN: z.string().min(1).optional(),
});
export type FunctionEnv = z.infer<typeof FunctionEnvSchema>;

/** Parses the variables; a bad value is a ConfigError naming the variable (never its value: it may be a secret). */
export function parseFunctionEnv(env: NodeJS.ProcessEnv): FunctionEnv {
  const r = FunctionEnvSchema.safeParse(env);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  throw new ConfigError(`invalid Lambda environment: ${issues}`, { cause: r.error });
}

export const functionEnv: FunctionEnv = parseFunctionEnv(process.env);
