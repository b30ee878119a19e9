export { toHighwaterError } from './errors.js';
export { redact } from './redact.js';
export { createSecretResolver, type SecretResolver, type SecretResolverOptions } from './resolver.js';
