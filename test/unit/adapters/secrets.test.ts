/**
 * The secret resolver. Secrets Manager is replaced by a tiny local HTTP server speaking its JSON protocol
 * (`X-Amz-Target: secretsmanager.GetSecretValue`), driven by the real SDK client.
 */
import { createServer, type Server } from 'node:http';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { createSecretResolver, redact, type SecretResolver } from '../../../lambdas/adapters/secrets/index.js';
import { ConfigError, ConnectionError, HighwaterError } from '../../../lambdas/errors.js';
import { freePort } from '../../support/free-port.js';

type Reply = { SecretString: string } | { SecretBinary: string } | { status: number; type: string; message: string };

const DB_JSON = JSON.stringify({ username: 'app', password: 'pa55-w0rd-json', port: 3306, nested: { a: 1 } });
const PLAIN = 'hunter2-plain-secret';
const ARRAY_JSON = '["first-array-secret"]';
/** Every secret value the fake can return: no error message may contain any of them. */
const SECRET_VALUES = [DB_JSON, 'pa55-w0rd-json', PLAIN, ARRAY_JSON, 'first-array-secret', 'binary-secret-bytes'];

/** Per secret id, replies served in order (the last one repeats). */
const replies = new Map<string, Reply[]>();
const calls: string[] = [];
let server: Server;
let endpoint: string;

const requestSchema = z.object({ SecretId: z.string() });

function setSecrets(): void {
  replies.clear();
  replies.set('prod/db', [{ SecretString: DB_JSON }]);
  replies.set('prod/plain', [{ SecretString: PLAIN }]);
  replies.set('prod/array', [{ SecretString: ARRAY_JSON }]);
  replies.set('prod/binary', [{ SecretBinary: Buffer.from('binary-secret-bytes').toString('base64') }]);
  replies.set('prod/denied', [
    { status: 400, type: 'AccessDeniedException', message: 'User is not authorized to perform GetSecretValue' },
  ]);
  replies.set('prod/busy', [{ status: 400, type: 'ThrottlingException', message: 'Rate exceeded' }]);
  replies.set('prod/flaky', [
    { status: 500, type: 'InternalServiceError', message: 'An internal error occurred' },
    { SecretString: PLAIN },
  ]);
}

function fakeSecretsManager(): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown, type?: string) => {
        res.writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          ...(type ? { 'x-amzn-errortype': type } : {}),
        });
        res.end(JSON.stringify(body));
      };
      if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
        send(400, { __type: 'UnknownOperationException' }, 'UnknownOperationException');
        return;
      }
      const { SecretId } = requestSchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      calls.push(SecretId);
      const queue = replies.get(SecretId);
      const reply = queue && queue.length > 1 ? queue.shift() : queue?.[0];
      if (reply === undefined) {
        const type = 'ResourceNotFoundException';
        send(400, { __type: type, message: "Secrets Manager can't find the specified secret." }, type);
      } else if ('status' in reply) {
        send(reply.status, { __type: reply.type, message: reply.message }, reply.type);
      } else {
        send(200, {
          ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${SecretId}`,
          Name: SecretId,
          ...reply,
        });
      }
    });
  });
}

const AWS_ENV = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };

/** A client that does not retry, so server faults show on the first call. */
function oneShotClient(url = endpoint): SecretsManagerClient {
  return new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

async function failure(p: Promise<unknown>): Promise<HighwaterError> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof HighwaterError)) throw new Error(`expected a HighwaterError, got ${String(e)}`);
    const text = `${e.message}\n${e.suggestion ?? ''}`;
    for (const v of SECRET_VALUES) expect(text).not.toContain(v);
    return e;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  server = fakeSecretsManager();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('fake has no port');
  endpoint = `http://127.0.0.1:${addr.port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('literal and environment references', () => {
  test('a literal is its value; an env reference reads the given environment', async () => {
    const r = createSecretResolver({ env: { DB_PASSWORD: 'from-env-1' } });
    expect(await r.resolve({ kind: 'literal', value: 'lit-value' }, 'source a password')).toBe('lit-value');
    expect(await r.resolve({ kind: 'env', name: 'DB_PASSWORD' }, 'source a password')).toBe('from-env-1');
    expect([...r.resolvedValues()]).toEqual(['lit-value', 'from-env-1']);
  });

  test('a missing variable is a ConfigError naming the variable and what it was for', async () => {
    const r = createSecretResolver({ env: { OTHER: 'x' } });
    const err = await failure(r.resolve({ kind: 'env', name: 'DB_PASSWORD' }, 'source shop password'));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe('source shop password: environment variable DB_PASSWORD is not set');
  });
});

describe('Secrets Manager references (Secrets Manager fake)', () => {
  let r: SecretResolver;
  beforeEach(() => {
    setSecrets();
    calls.length = 0;
    r = createSecretResolver({ env: AWS_ENV, endpoint });
    return () => r.close();
  });

  test('a whole SecretString, fetched once per secret however often and concurrently it is asked for', async () => {
    const ref = { kind: 'secretsmanager', secretId: 'prod/plain' } as const;
    const values = await Promise.all([r.resolve(ref, 'a'), r.resolve(ref, 'b')]);
    expect(values).toEqual([PLAIN, PLAIN]);
    expect(await r.resolve(ref, 'c')).toBe(PLAIN);
    expect(calls).toEqual(['prod/plain']);
  });

  test('key selects a field of a JSON secret; numbers become text; one call for several keys', async () => {
    const secret = (key: string) => ({ kind: 'secretsmanager', secretId: 'prod/db', key }) as const;
    expect(await r.resolve(secret('password'), 'source shop password')).toBe('pa55-w0rd-json');
    expect(await r.resolve(secret('username'), 'source shop username')).toBe('app');
    expect(await r.resolve(secret('port'), 'source shop port')).toBe('3306');
    expect(calls).toEqual(['prod/db']);
    expect(r.resolvedValues()).toEqual(new Set(['pa55-w0rd-json', 'app', '3306']));
  });

  test('each resolver is one invocation: a new resolver asks again', async () => {
    const ref = { kind: 'secretsmanager', secretId: 'prod/plain' } as const;
    await r.resolve(ref, 'a');
    const next = createSecretResolver({ env: AWS_ENV, endpoint });
    await next.resolve(ref, 'a');
    next.close();
    expect(calls).toEqual(['prod/plain', 'prod/plain']);
  });

  test('a missing key names the secret, the key and the keys there are, never a value', async () => {
    const err = await failure(r.resolve({ kind: 'secretsmanager', secretId: 'prod/db', key: 'pasword' }, 'pw'));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe('pw: secret prod/db has no key "pasword" (keys: username, password, port, nested)');
  });

  test('a key whose value is an object is refused', async () => {
    const err = await failure(r.resolve({ kind: 'secretsmanager', secretId: 'prod/db', key: 'nested' }, 'pw'));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('key "nested" of secret prod/db is not a string, number or boolean');
  });

  test('a key on a secret that is not JSON, or not a JSON object, is refused without quoting it', async () => {
    for (const secretId of ['prod/plain', 'prod/array']) {
      const err = await failure(r.resolve({ kind: 'secretsmanager', secretId, key: 'password' }, 'pw'));
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toBe(`pw: secret ${secretId} is not a JSON object, so key "password" cannot be selected`);
    }
  });

  test('a binary secret is refused', async () => {
    const err = await failure(r.resolve({ kind: 'secretsmanager', secretId: 'prod/binary' }, 'pw'));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('secret prod/binary has no SecretString');
  });

  test('an unknown secret is a ConfigError with the secret id and the AWS message', async () => {
    const err = await failure(r.resolve({ kind: 'secretsmanager', secretId: 'prod/nope' }, 'source shop password'));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.transient).toBe(false);
    expect(err.message).toBe(
      "source shop password: Secrets Manager could not return secret prod/nope: ResourceNotFoundException: Secrets Manager can't find the specified secret.",
    );
  });

  test('access denied is a ConfigError suggesting the permission', async () => {
    const err = await failure(r.resolve({ kind: 'secretsmanager', secretId: 'prod/denied' }, 'pw'));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('prod/denied: AccessDeniedException: User is not authorized');
    expect(err.suggestion).toContain('secretsmanager:GetSecretValue');
  });

  test('throttling is a transient ConnectionError', async () => {
    const resolver = createSecretResolver({ env: {}, client: oneShotClient() });
    const err = await failure(resolver.resolve({ kind: 'secretsmanager', secretId: 'prod/busy' }, 'pw'));
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.transient).toBe(true);
    expect(err.message).toContain('prod/busy: ThrottlingException: Rate exceeded');
  });

  test('a server fault is a ConnectionError and is not cached: the next resolve asks again', async () => {
    const client = oneShotClient();
    const resolver = createSecretResolver({ env: {}, client });
    const ref = { kind: 'secretsmanager', secretId: 'prod/flaky' } as const;
    const err = await failure(resolver.resolve(ref, 'pw'));
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.message).toContain('prod/flaky: InternalServiceError: An internal error occurred');
    expect(await resolver.resolve(ref, 'pw')).toBe(PLAIN);
    expect(calls).toEqual(['prod/flaky', 'prod/flaky']);
    resolver.close(); // a client passed in belongs to the caller
    expect(await createSecretResolver({ env: {}, client }).resolve(ref, 'pw')).toBe(PLAIN);
    client.destroy();
  });

  test('an unreachable endpoint is a ConnectionError naming the secret', async () => {
    const client = oneShotClient(`http://127.0.0.1:${await freePort()}`);
    const resolver = createSecretResolver({ env: {}, client });
    const err = await failure(resolver.resolve({ kind: 'secretsmanager', secretId: 'prod/plain' }, 'pw'));
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.message).toContain('pw: Secrets Manager could not return secret prod/plain');
    client.destroy();
  });

  test('missing credentials are a ConfigError', async () => {
    const client = new SecretsManagerClient({
      region: 'us-east-1',
      endpoint,
      maxAttempts: 1,
      credentials: async () => {
        const e = new Error('Could not load credentials from any providers');
        e.name = 'CredentialsProviderError';
        throw e;
      },
    });
    const err = await failure(
      createSecretResolver({ env: {}, client }).resolve({ kind: 'secretsmanager', secretId: 'prod/plain' }, 'pw'),
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('CredentialsProviderError: Could not load credentials');
    expect(calls).toEqual([]);
    client.destroy();
  });

  test('without a region (option or AWS_REGION / AWS_DEFAULT_REGION) it is a ConfigError before any call', async () => {
    const resolver = createSecretResolver({
      env: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
      endpoint,
    });
    const err = await failure(resolver.resolve({ kind: 'secretsmanager', secretId: 'prod/plain' }, 'pw'));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe('pw: secret prod/plain is in Secrets Manager, but no AWS region is configured');
    expect(calls).toEqual([]);
    const withDefault = createSecretResolver({
      env: { AWS_DEFAULT_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
      endpoint,
    });
    expect(await withDefault.resolve({ kind: 'secretsmanager', secretId: 'prod/plain' }, 'pw')).toBe(PLAIN);
    withDefault.close();
  });

  test('resolved values are redacted from later error messages', async () => {
    // A secret whose id equals a value resolved earlier: the AWS message would echo it.
    const resolver = createSecretResolver({ env: { PW: 'prod/nope-is-secret' }, client: oneShotClient() });
    await resolver.resolve({ kind: 'env', name: 'PW' }, 'pw');
    const err = await failure(resolver.resolve({ kind: 'secretsmanager', secretId: 'prod/nope-is-secret' }, 'x'));
    expect(err.message).not.toContain('prod/nope-is-secret');
    expect(err.message).toContain('could not return secret ***');
    expect(resolver.redact('password=prod/nope-is-secret;')).toBe('password=***;');
  });
});

describe('redact', () => {
  test('replaces every occurrence of each value of 4 or more characters', () => {
    expect(redact('a=s3cr3t b=s3cr3t c=abc', ['s3cr3t', 'abc'])).toBe('a=*** b=*** c=abc');
  });

  test('longer values go first, so a value containing another is removed whole', () => {
    expect(redact('token=abcd-efgh-ijkl key=abcd', ['abcd', 'abcd-efgh-ijkl'])).toBe('token=*** key=***');
  });

  test('values are matched literally, not as patterns', () => {
    expect(redact('p=a.b*c+(d) q=axbxxc', ['a.b*c+(d)'])).toBe('p=*** q=axbxxc');
  });
});
