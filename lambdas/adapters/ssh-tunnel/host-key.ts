/** Host key pinning: fingerprints in the `ssh-keygen -lf` form (`SHA256:<base64 without padding>`). */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError, ConnectionError } from '../../errors.js';

const PIN = /^SHA256:([A-Za-z0-9+/]{43})=?$/;

/** The fingerprint of a raw SSH public key blob, as `ssh-keygen -lf` prints it. */
export function fingerprintSha256(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** Validates a configured pin and drops the optional base64 padding some tools print. */
export function normalizePin(pin: string, where: string): string {
  const m = PIN.exec(pin.trim());
  if (!m) {
    throw new ConfigError(
      `SSH tunnel ${where}: host key fingerprint "${pin}" is not of the form SHA256:<43 base64 characters>`,
      { suggestion: 'Copy the fingerprint from `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the bastion.' },
    );
  }
  return `SHA256:${m[1]}`;
}

/** Constant-time comparison (fingerprints are public, but a pin check should not leak how much matched). */
export function fingerprintsMatch(expected: string, actual: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(actual);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The bastion presented a different host key than the pinned one: possibly a man in the middle, possibly a
 * rebuilt bastion. Either way a person must look, so it is not retried.
 */
export class HostKeyMismatchError extends ConnectionError {
  override readonly code: string = 'SSH_HOST_KEY_MISMATCH';
  static override readonly transientByDefault: boolean = false;
  readonly expected: string;
  readonly actual: string;

  /** `firstSeenAt`: the expected key is the one remembered on first use (no pin), seen then. */
  constructor(where: string, expected: string, actual: string, firstSeenAt?: string) {
    super(
      firstSeenAt === undefined
        ? `SSH tunnel ${where}: the host key did not match the pinned fingerprint (expected ${expected}, got ${actual}); refusing to connect`
        : `SSH tunnel ${where}: the host key changed since it was first seen on ${firstSeenAt} (remembered ${expected}, now ${actual}); refusing to connect`,
      {
        suggestion:
          firstSeenAt === undefined
            ? 'If the bastion was rebuilt, verify its new key out of band and update host_key_sha256; otherwise treat this as an attack.'
            : `If the bastion was rebuilt, verify its new key out of band and pin it: ssh_tunnel.host_key_sha256: ${actual}; otherwise treat this as an attack.`,
      },
    );
    this.expected = expected;
    this.actual = actual;
  }
}
