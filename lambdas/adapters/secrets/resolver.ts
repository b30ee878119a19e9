/**
 * Resolves SecretRefs when a connection is opened: literals, environment variables, and AWS Secrets Manager
 * (one GetSecretValue per secret per resolver, i.e. per invocation). Every value handed out is remembered so that
 * logs and errors can be redacted; messages name the variable, secret and key, never a value.
 */
import type { GetSecretValueCommandOutput, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretRef } from '../../domain/config.js';
import { ConfigError } from '../../errors.js';
import { toHighwaterError } from './errors.js';
import { redact } from './redact.js';

export interface SecretResolverOptions {
  /** The configuration's environment: `env` references, and AWS_REGION / AWS_* credentials when set there. */
  env: NodeJS.ProcessEnv;
  region?: string;
  /** Secrets Manager endpoint override (VPC endpoint, or a stand-in in tests). */
  endpoint?: string;
  /** A ready client; the resolver then leaves region, endpoint and credentials to it. */
  client?: SecretsManagerClient;
}

export interface SecretResolver {
  /** @param what what the secret is for, e.g. `source shop password`, for messages. */
  resolve(ref: SecretRef, what: string): Promise<string>;
  /** Every value resolve() returned so far. */
  resolvedValues(): ReadonlySet<string>;
  /** `text` with every resolved value replaced by `***`. */
  redact(text: string): string;
  /** Releases the SDK client's sockets if the resolver created it. */
  close(): void;
}

function credentialsFrom(env: NodeJS.ProcessEnv) {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined; // the SDK's default chain (profile, role)
  return { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
}

/** Names the JSON keys (never the values) so a typo is easy to spot. */
function keysOf(doc: Record<string, unknown>): string {
  const keys = Object.keys(doc);
  return keys.length === 0 ? 'none' : keys.join(', ');
}

function selectKey(secretString: string, secretId: string, key: string, what: string): string {
  let doc: unknown;
  try {
    doc = JSON.parse(secretString);
  } catch {
    // JSON.parse's message quotes the input, i.e. the secret: never pass it on.
    throw new ConfigError(`${what}: secret ${secretId} is not a JSON object, so key "${key}" cannot be selected`, {
      suggestion: 'Store the secret as JSON key/value pairs, or drop `key` to use the whole secret string.',
    });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new ConfigError(`${what}: secret ${secretId} is not a JSON object, so key "${key}" cannot be selected`);
  }
  const record = doc as Record<string, unknown>;
  if (!Object.hasOwn(record, key)) {
    throw new ConfigError(`${what}: secret ${secretId} has no key "${key}" (keys: ${keysOf(record)})`);
  }
  const value = record[key];
  // RDS-managed secrets keep `port` as a number; a number or boolean is read as its text.
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new ConfigError(`${what}: key "${key}" of secret ${secretId} is not a string, number or boolean`);
}

export function createSecretResolver(opts: SecretResolverOptions): SecretResolver {
  const returned = new Set<string>();
  const fetched = new Map<string, Promise<GetSecretValueCommandOutput>>();
  let client = opts.client;
  const ownsClient = opts.client === undefined;

  /** The SDK loads only when a secret is in Secrets Manager: a run with literal or `${ENV}` secrets never loads it. */
  async function getSecretValue(secretId: string, what: string): Promise<GetSecretValueCommandOutput> {
    const config = client ? null : clientConfig(secretId, what);
    const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
    if (config) client ??= new SecretsManagerClient(config);
    return client!.send(new GetSecretValueCommand({ SecretId: secretId }));
  }

  function clientConfig(secretId: string, what: string) {
    const region = opts.region ?? opts.env.AWS_REGION ?? opts.env.AWS_DEFAULT_REGION;
    if (!region) {
      throw new ConfigError(`${what}: secret ${secretId} is in Secrets Manager, but no AWS region is configured`, {
        suggestion: 'Set AWS_REGION (or AWS_DEFAULT_REGION).',
      });
    }
    const credentials = credentialsFrom(opts.env);
    return {
      region,
      ...(opts.endpoint === undefined ? {} : { endpoint: opts.endpoint }),
      ...(credentials === undefined ? {} : { credentials }),
    };
  }

  async function fromSecretsManager(secretId: string, key: string | undefined, what: string): Promise<string> {
    let pending = fetched.get(secretId);
    if (!pending) {
      // The region is checked before the request exists, so a missing one is the ConfigError it is.
      if (!client) clientConfig(secretId, what);
      pending = getSecretValue(secretId, what);
      fetched.set(secretId, pending);
      // A failure is not cached: a retry within the same invocation asks again.
      pending.catch(() => fetched.delete(secretId));
    }
    let out: GetSecretValueCommandOutput;
    try {
      out = await pending;
    } catch (e) {
      const err = toHighwaterError(e, secretId, what);
      err.message = redact(err.message, returned);
      throw err;
    }
    if (out.SecretString === undefined) {
      throw new ConfigError(`${what}: secret ${secretId} has no SecretString (binary secrets are not supported)`);
    }
    return key === undefined ? out.SecretString : selectKey(out.SecretString, secretId, key, what);
  }

  async function lookup(ref: SecretRef, what: string): Promise<string> {
    switch (ref.kind) {
      case 'literal':
        return ref.value;
      case 'env': {
        const v = opts.env[ref.name];
        if (v === undefined) throw new ConfigError(`${what}: environment variable ${ref.name} is not set`);
        return v;
      }
      case 'secretsmanager':
        return fromSecretsManager(ref.secretId, ref.key, what);
    }
  }

  return {
    async resolve(ref, what) {
      const value = await lookup(ref, what);
      returned.add(value);
      return value;
    },
    resolvedValues: () => returned,
    redact: (text) => redact(text, returned),
    close() {
      if (!ownsClient) return;
      client?.destroy();
      client = undefined;
    },
  };
}
