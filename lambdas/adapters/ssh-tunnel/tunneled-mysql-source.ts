/**
 * The MySQL source over an SSH tunnel. createMysqlSource takes a synchronous transport factory, so each session
 * gets a lazily opened forwarded channel (Tunnel.forwardLazily): one channel per session, opened only when the
 * source opens a session, exactly like its TCP connections. Closing the source closes its channels, not the
 * tunnel: the caller owns the tunnel.
 */

import { ConnectionError } from '../../errors.js';
import type { SourceReader } from '../../ports/index.js';
import { createMysqlSource, type MysqlSourceOptions } from '../mysql/index.js';
import type { Tunnel } from './tunnel.js';

/** `host`/`port` are the database's address as the bastion sees it. */
export type TunneledMysqlSourceOptions = Omit<MysqlSourceOptions, 'stream'> & { tunnel: Tunnel };

export async function createTunneledMysqlSource(opts: TunneledMysqlSourceOptions): Promise<SourceReader> {
  const { tunnel, ...mysql } = opts;
  if (tunnel.closed) {
    throw new ConnectionError(`SSH tunnel ${tunnel.target} is closed; cannot reach MySQL at ${opts.host}:${opts.port}`);
  }
  return createMysqlSource({ ...mysql, stream: () => tunnel.forwardLazily(opts.host, opts.port) });
}
