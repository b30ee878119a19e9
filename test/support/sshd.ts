/**
 * A private OpenSSH server for tunnel tests: its own host and client keys and sshd_config in a temp dir, bound to
 * 127.0.0.1 on a free port (reference/test-stack.md §6). Needs the Debian `openssh-server` package.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);
const SSHD = '/usr/sbin/sshd';

export interface SshdInstance {
  host: string;
  port: number;
  username: string;
  privateKey: Buffer;
  /** The host key's fingerprint as `ssh-keygen -lf` prints it (`SHA256:…`). */
  hostKeySha256: string;
  /** Everything sshd logged so far (auth, channel and forwarding decisions). */
  log(): string;
  /** Kills the per-connection sshd processes (not the listener): every open tunnel drops mid-stream. */
  killConnections(): Promise<void>;
  /** Stops (SIGSTOP) the per-connection processes: the sockets stay open but nothing answers, like a dead link. */
  freezeConnections(): Promise<void>;
  stop(): Promise<void>;
}

async function keygen(path: string): Promise<void> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'highwater-test', '-f', path]);
}

async function fingerprint(pubPath: string): Promise<string> {
  const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubPath]);
  const fp = stdout.split(' ')[1];
  if (!fp?.startsWith('SHA256:')) throw new Error(`unexpected ssh-keygen -lf output: ${stdout}`);
  return fp;
}

function waitForPort(port: number, proc: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (proc.exitCode !== null) {
        reject(new Error(`sshd exited with ${proc.exitCode}: ${readLog(logFile)}`));
        return;
      }
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`sshd did not listen on ${port} within 15 s: ${readLog(logFile)}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Pids of every descendant of `root`, from /proc (no procps needed). */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/PID/stat is the ppid; the command name (field 2) may contain spaces, so split after ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(entry), ppid);
    } catch {
      // The process exited while we looked.
    }
  }
  const out: number[] = [];
  const frontier = [root];
  while (frontier.length > 0) {
    const p = frontier.pop()!;
    for (const [pid, ppid] of parent) {
      if (ppid === p) {
        out.push(pid);
        frontier.push(pid);
      }
    }
  }
  return out;
}

/** Signals every process below the listener: its per-connection sshd processes. */
function signalChildren(proc: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (proc.pid === undefined) return;
  for (const pid of descendants(proc.pid)) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

export async function startSshd(opts: { permitOpen: string[] }): Promise<SshdInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'hw-sshd-'));
  // No systemd tmpfiles here: sshd refuses to start without its privilege separation directory.
  mkdirSync('/run/sshd', { recursive: true });
  const hostKey = join(dir, 'host_ed25519');
  const clientKey = join(dir, 'client_ed25519');
  await Promise.all([keygen(hostKey), keygen(clientKey)]);
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, readFileSync(`${clientKey}.pub`));
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  const logFile = join(dir, 'sshd.log');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      // The keys live under a world-writable temp dir, which StrictModes would reject.
      'StrictModes no',
      'AllowTcpForwarding yes',
      `PermitOpen ${opts.permitOpen.length > 0 ? opts.permitOpen.join(' ') : 'none'}`,
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  await run(SSHD, ['-t', '-f', config]);
  const proc = spawn(SSHD, ['-D', '-f', config, '-E', logFile], { stdio: 'ignore' });
  try {
    await waitForPort(port, proc, logFile);
  } catch (e) {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const username = process.getuid?.() === 0 ? 'root' : (process.env.USER ?? 'root');

  return {
    host: '127.0.0.1',
    port,
    username,
    privateKey: readFileSync(clientKey),
    hostKeySha256: await fingerprint(`${hostKey}.pub`),
    log: () => readLog(logFile),
    async killConnections() {
      signalChildren(proc);
    },
    async freezeConnections() {
      signalChildren(proc, 'SIGSTOP');
    },
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
        signalChildren(proc);
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
