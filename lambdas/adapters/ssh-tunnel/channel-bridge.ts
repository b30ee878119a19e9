/**
 * A Duplex over one forwarded SSH channel that may not be open yet. mysql2 takes its transport from a synchronous
 * factory, so the bridge is handed out at once and attaches to the channel when the bastion confirms it; writes
 * made before then are queued. It also gives the channel ordinary stream semantics: ssh2's Channel.destroy()
 * ignores its error argument, whereas `bridge.destroy(err)` makes the reader (mysql2) see `err`.
 */
import { Duplex } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { ConnectionError } from '../../errors.js';

type Callback = (error?: Error | null) => void;

export class ChannelBridge extends Duplex {
  private channel: ClientChannel | undefined;
  private queued: { chunk: Buffer; callback: Callback }[] = [];
  private queuedFinal: Callback | undefined;

  /**
   * @param channel rejects with the ConnectionError that says why the channel could not be opened.
   * @param what e.g. `SSH tunnel root@bastion:22 → db:3306`, for messages.
   */
  constructor(
    channel: Promise<ClientChannel>,
    private readonly what: string,
  ) {
    // Like a TCP socket: when the far side ends, end ours too.
    super({ allowHalfOpen: false });
    channel.then(
      (ch) => this.attach(ch),
      (e: Error) => this.destroy(e),
    );
  }

  private attach(ch: ClientChannel): void {
    if (this.destroyed) {
      ch.close(); // given up on before the bastion answered
      return;
    }
    this.channel = ch;
    ch.on('data', (data: Buffer) => {
      if (!this.push(data)) ch.pause();
    });
    // ssh2 emits a direct-tcpip channel's 'close' only after its 'end', also when the connection drops (the
    // tunnel destroys its bridges with the reason then), so 'end' is the one signal needed here.
    ch.on('end', () => this.push(null));
    // ssh2 itself emits no channel errors; a stream-level one must not crash the process, and stays transient.
    ch.on('error', (e: Error) => this.destroy(new ConnectionError(`${this.what}: ${e.message}`, { cause: e })));
    for (const { chunk, callback } of this.queued) ch.write(chunk, callback);
    this.queued = [];
    const final = this.queuedFinal;
    this.queuedFinal = undefined;
    if (final) {
      ch.end();
      final();
    }
  }

  override _read(): void {
    this.channel?.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: Callback): void {
    if (this.channel) this.channel.write(chunk, callback);
    else this.queued.push({ chunk, callback });
  }

  override _final(callback: Callback): void {
    if (this.channel) {
      this.channel.end();
      callback();
    } else {
      this.queuedFinal = callback;
    }
  }

  override _destroy(error: Error | null, callback: Callback): void {
    const ch = this.channel;
    this.channel = undefined;
    if (ch) {
      ch.removeAllListeners('data');
      ch.removeAllListeners('end');
      ch.on('error', () => undefined);
      // ssh2's destroy() is a graceful EOF + CLOSE of the channel.
      ch.destroy();
    }
    this.queued = [];
    this.queuedFinal = undefined;
    callback(error);
  }
}
