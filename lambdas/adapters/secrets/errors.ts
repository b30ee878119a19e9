/**
 * Secrets Manager failures as Highwater errors. A wrong name, a missing permission or a bad request will not
 * fix itself (ConfigError); throttling, server faults and the network might (ConnectionError, retried).
 */
import { ConfigError, ConnectionError, describeError, type HighwaterError } from '../../errors.js';

const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded']);

interface SdkErrorFields {
  name?: unknown;
  $fault?: unknown;
}

export function toHighwaterError(e: unknown, secretId: string, what: string): HighwaterError {
  const f: SdkErrorFields = typeof e === 'object' && e !== null ? e : {};
  const name = typeof f.name === 'string' ? f.name : 'Error';
  const detail = `${name}: ${describeError(e)}`;
  const message = `${what}: Secrets Manager could not return secret ${secretId}: ${detail}`;
  if (f.$fault === 'client' && !THROTTLING.has(name)) {
    return new ConfigError(message, {
      suggestion:
        name === 'AccessDeniedException'
          ? 'Grant secretsmanager:GetSecretValue (and kms:Decrypt for its key) on this secret.'
          : 'Check the secret name or ARN and the region.',
    });
  }
  if (name === 'CredentialsProviderError') {
    return new ConfigError(message, { suggestion: 'Provide AWS credentials (environment, profile or role).' });
  }
  return new ConnectionError(message, { suggestion: 'Secrets Manager was unreachable or busy; retrying may help.' });
}
