/**
 * An SSH tunnel to a bastion (ssh2): key authentication, host key pinned by SHA256 fingerprint, keepalives, and
 * `direct-tcpip` channels to the database behind it. The caller owns the tunnel and closes it.
 */
import type { Duplex } from 'node:stream';
import { Client, type ClientChannel } from 'ssh2';
import { ConfigError, ConnectionError, describeError } from '../../errors.js';
import { ChannelBridge } from './channel-bridge.js';
import { fingerprintSha256, fingerprintsMatch, HostKeyMismatchError, normalizePin } from './host-key.js';

export interface TunnelOptions {
  host: string;
  port: number;
  username: string;
  privateKey: string | Buffer;
  /** `SHA256:…` as `ssh-keygen -lf` prints it. Without it (and without `checkHostKey`) any host key is accepted. */
  hostKeySha256?: string;
  /**
   * With no pin: decides on the presented key's fingerprint before login (trust on first use); a rejection refuses
   * the connection with that error.
   */
  checkHostKey?: (fingerprint: string) => Promise<void>;
  connectTimeoutSeconds: number;
  /** Seconds between keepalives; 0 turns them off. Three unanswered keepalives drop the tunnel. */
  keepaliveSeconds: number;
}

export interface Tunnel {
  /** `user@host:port` of the bastion, for messages and logs. */
  readonly target: string;
  /** The fingerprint of the host key the bastion presented. */
  readonly hostKeySha256: string;
  /** False when no pin was configured and nothing checked the key: the caller should warn, showing `hostKeySha256`. */
  readonly hostKeyPinned: boolean;
  readonly closed: boolean;
  /** Opens a channel to `dstHost:dstPort` as seen from the bastion; rejects with a ConnectionError naming it. */
  forward(dstHost: string, dstPort: number): Promise<Duplex>;
  /**
   * The same channel, returned at once for consumers that need a synchronous transport factory (mysql2): writes
   * are queued until the channel opens, and an open failure destroys the stream with the ConnectionError.
   */
  forwardLazily(dstHost: string, dstPort: number): Duplex;
  /**
   * `listener` runs once when the tunnel closes: with a ConnectionError when it dropped, with undefined after
   * close(). Runs at once if the tunnel is already closed. Returns a function that removes the listener.
   */
  onClose(listener: (dropped: ConnectionError | undefined) => void): () => void;
  /** Ends the SSH connection and every forwarded stream. Idempotent. */
  close(): Promise<void>;
}

/** How long close() waits for the server to acknowledge the disconnect. */
const CLOSE_GRACE_MS = 2_000;

interface Ssh2Error extends Error {
  level?: string;
  reason?: number;
}

function connectFailure(where: string, e: Ssh2Error): ConnectionError {
  const suggestion =
    e.level === 'client-authentication'
      ? 'Check the SSH username and that the public key is in the bastion’s authorized_keys.'
      : e.level === 'client-timeout'
        ? 'The bastion did not complete the SSH handshake in time: check host, port, security groups and connect_timeout.'
        : 'Check that the bastion is reachable from here; retrying may help.';
  return new ConnectionError(`SSH tunnel ${where}: connection failed: ${e.message}`, { suggestion, cause: e });
}

function channelFailure(where: string, dst: string, e: Ssh2Error): ConnectionError {
  // RFC 4254 §5.1 reason codes: 1 = administratively prohibited, 2 = connect failed.
  const suggestion =
    e.reason === 1
      ? `The bastion does not permit forwarding to ${dst}: check AllowTcpForwarding and PermitOpen in its sshd_config.`
      : `The bastion could not reach ${dst}: check the database host and port as seen from the bastion.`;
  return new ConnectionError(`SSH tunnel ${where}: could not open a channel to ${dst}: ${e.message}`, {
    suggestion,
    cause: e,
  });
}

export async function openTunnel(opts: TunnelOptions): Promise<Tunnel> {
  const where = `${opts.username}@${opts.host}:${opts.port}`;
  const pin = opts.hostKeySha256 === undefined ? undefined : normalizePin(opts.hostKeySha256, where);
  const client = new Client();
  let presented = '';
  let mismatch: Error | undefined;

  await new Promise<void>((resolve, reject) => {
    const settle = (e: Error | undefined) => {
      client.off('error', onError).off('close', onEarlyClose).off('ready', onReady);
      if (e === undefined) return resolve();
      client.on('error', () => undefined); // late errors of a connection we gave up on
      client.end();
      reject(e);
    };
    const onError = (e: Ssh2Error) => settle(mismatch ?? connectFailure(where, e));
    const onEarlyClose = () =>
      settle(mismatch ?? new ConnectionError(`SSH tunnel ${where}: the server closed the connection during login`));
    const onReady = () => settle(undefined);
    client.on('error', onError).on('close', onEarlyClose).on('ready', onReady);
    try {
      client.connect({
        host: opts.host,
        port: opts.port,
        username: opts.username,
        privateKey: opts.privateKey,
        readyTimeout: opts.connectTimeoutSeconds * 1000,
        keepaliveInterval: opts.keepaliveSeconds * 1000,
        keepaliveCountMax: 3,
        // The two-argument form lets the check be asynchronous (ssh2 waits for `verify`).
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void): void => {
          presented = fingerprintSha256(key);
          if (pin !== undefined) {
            const ok = fingerprintsMatch(pin, presented);
            if (!ok) mismatch = new HostKeyMismatchError(where, pin, presented);
            verify(ok);
            return;
          }
          if (!opts.checkHostKey) {
            verify(true);
            return;
          }
          opts.checkHostKey(presented).then(
            () => verify(true),
            (e: unknown) => {
              mismatch = e instanceof Error ? e : new ConnectionError(`SSH tunnel ${where}: ${String(e)}`);
              verify(false);
            },
          );
        },
      });
    } catch (e) {
      // ssh2 parses the key synchronously; its messages describe the format, never the key.
      settle(new ConfigError(`SSH tunnel ${where}: the private key cannot be used: ${describeError(e)}`));
    }
  });

  return connectedTunnel(client, where, presented, pin !== undefined || opts.checkHostKey !== undefined);
}

function connectedTunnel(client: Client, where: string, hostKeySha256: string, hostKeyPinned: boolean): Tunnel {
  const streams = new Set<ChannelBridge>();
  const listeners = new Set<(dropped: ConnectionError | undefined) => void>();
  let closed = false;
  let closing: Promise<void> | undefined;
  let lastError: Error | undefined;
  let dropped: ConnectionError | undefined;

  // After login, errors (keepalive timeout, reset) are followed by 'close'; keep the reason for the message.
  client.on('error', (e: Error) => {
    lastError = e;
  });
  client.once('close', () => {
    closed = true;
    if (closing === undefined) {
      dropped = new ConnectionError(
        `SSH tunnel ${where} dropped${lastError ? `: ${lastError.message}` : ' (the server closed the connection)'}`,
        { suggestion: 'Retrying opens a new tunnel; if it keeps dropping, check the bastion and keepalive settings.' },
      );
    }
    // ssh2 would only end the channels quietly; readers must learn the rows stopped because the tunnel went.
    for (const s of streams) s.destroy(dropped);
    streams.clear();
    for (const l of listeners) l(dropped);
    listeners.clear();
  });

  function openChannel(dst: string, dstHost: string, dstPort: number): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      if (closed || closing) {
        reject(new ConnectionError(`SSH tunnel ${where} is closed; cannot forward to ${dst}`));
        return;
      }
      try {
        client.forwardOut('127.0.0.1', 0, dstHost, dstPort, (e, ch) => {
          if (e) reject(channelFailure(where, dst, e));
          else resolve(ch);
        });
      } catch (e) {
        reject(new ConnectionError(`SSH tunnel ${where}: could not open a channel to ${dst}: ${describeError(e)}`));
      }
    });
  }

  function track(s: ChannelBridge): ChannelBridge {
    streams.add(s);
    s.once('close', () => streams.delete(s));
    return s;
  }

  const describe = (dst: string) => `SSH tunnel ${where} → ${dst}`;

  return {
    target: where,
    hostKeySha256,
    hostKeyPinned,
    get closed() {
      return closed;
    },
    async forward(dstHost, dstPort) {
      const dst = `${dstHost}:${dstPort}`;
      // Opened before wrapping, so a failure is this promise's rejection and not also an unheard 'error' event.
      const ch = await openChannel(dst, dstHost, dstPort);
      return track(new ChannelBridge(Promise.resolve(ch), describe(dst)));
    },
    forwardLazily(dstHost, dstPort) {
      const dst = `${dstHost}:${dstPort}`;
      return track(new ChannelBridge(openChannel(dst, dstHost, dstPort), describe(dst)));
    },
    onClose(listener) {
      if (closed) {
        listener(dropped);
        return () => undefined;
      }
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        if (closed) return resolve();
        for (const s of streams) s.destroy();
        // A dead peer may never acknowledge the disconnect; the caller is not kept waiting for it.
        const done = () => {
          clearTimeout(cut);
          closed = true;
          resolve();
        };
        const cut = setTimeout(done, CLOSE_GRACE_MS);
        client.once('close', done);
        client.end();
      });
      return closing;
    },
  };
}
