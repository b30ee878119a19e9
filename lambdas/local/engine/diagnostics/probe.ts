/**
 * Connection probing without I/O of its own: a connection is tested as an ordered list of hops (an SSH bastion,
 * then MySQL through it; or one warehouse call), each run under a deadline and timed. The first hop that fails
 * stops the probe and the hops after it are reported as skipped, so a report always names the hop that failed.
 * The adapters that actually connect are passed in as `run` functions by the caller (the CLI).
 */

export type HopKind = 'ssh' | 'mysql' | 'duckdb' | 'redshift' | 'config';
export type ConnectionRole = 'source' | 'target';
export type ConnectionKind = 'mysql' | 'duckdb' | 'redshift';

/** What a hop reports when it succeeds: short facts for the report (server version, fingerprint, …). */
export type HopFacts = Record<string, string>;

export interface HopStep {
  kind: HopKind;
  /** `host:port`, `user@host:port`, a file path or a workgroup: what this hop reaches. */
  address: string;
  /** What the timing covers, for the report (e.g. `handshake`, `connect + SELECT 1`). */
  measures: string;
  run(signal: AbortSignal): Promise<HopFacts>;
}

export type HopStatus = 'ok' | 'failed' | 'skipped';

export interface HopResult {
  kind: HopKind;
  address: string;
  measures: string;
  status: HopStatus;
  /** Whole milliseconds; absent for a skipped hop. */
  latencyMs?: number;
  facts: HopFacts;
  /** The failure, already redacted; only on a failed hop. */
  error?: string;
  /** The failure's class (`ConnectionError`, `ConfigError`, `HostKeyMismatchError`, …). */
  errorName?: string;
}

export type TunnelState = 'none' | 'up' | 'down' | 'not tried';

export interface ConnectionProbe {
  connection: string;
  role: ConnectionRole;
  kind: ConnectionKind;
  ok: boolean;
  /** Sum of the hops' latencies. */
  latencyMs: number;
  tunnel: TunnelState;
  hops: HopResult[];
}

export interface ProbeOptions {
  /** Deadline of each hop, in milliseconds. */
  timeoutMs: number;
  /** Makes a failure message safe to print (the runtime's secret redaction). */
  redact: (text: string) => string;
  /** Monotonic milliseconds; injectable for tests. */
  now?: () => number;
}

export class HopTimeoutError extends Error {
  constructor(
    readonly hop: HopKind,
    readonly address: string,
    readonly timeoutMs: number,
  ) {
    super(`${hop} ${address}: no answer within ${formatSeconds(timeoutMs)}`);
    this.name = 'HopTimeoutError';
  }
}

function formatSeconds(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  return `${Number((ms / 1000).toFixed(1))} s`;
}

const defaultNow = (): number => performance.now();

/** Runs `step` under the deadline; a late answer is abandoned (the signal tells `run` to clean up). */
async function runWithDeadline(step: HopStep, timeoutMs: number): Promise<HopFacts> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const e = new HopTimeoutError(step.kind, step.address, timeoutMs);
      controller.abort(e);
      reject(e);
    }, timeoutMs);
  });
  try {
    return await Promise.race([step.run(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function errorName(e: unknown): string {
  return e instanceof Error ? e.name : 'Error';
}

function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const suggestion = (e as { suggestion?: unknown }).suggestion;
  return typeof suggestion === 'string' && suggestion !== '' ? `${e.message} (${suggestion})` : e.message;
}

/** Runs the hops in order, stopping at the first failure. Never throws: a failure is part of the result. */
export async function probeConnection(
  target: { connection: string; role: ConnectionRole; kind: ConnectionKind },
  steps: readonly HopStep[],
  opts: ProbeOptions,
): Promise<ConnectionProbe> {
  const now = opts.now ?? defaultNow;
  const hops: HopResult[] = [];
  let failed = false;
  for (const step of steps) {
    const base = { kind: step.kind, address: step.address, measures: step.measures };
    if (failed) {
      hops.push({ ...base, status: 'skipped', facts: {} });
      continue;
    }
    const started = now();
    try {
      const facts = await runWithDeadline(step, opts.timeoutMs);
      hops.push({ ...base, status: 'ok', latencyMs: Math.round(now() - started), facts });
    } catch (e) {
      failed = true;
      hops.push({
        ...base,
        status: 'failed',
        latencyMs: Math.round(now() - started),
        facts: {},
        error: opts.redact(errorText(e)),
        errorName: errorName(e),
      });
    }
  }
  const ssh = hops.find((h) => h.kind === 'ssh');
  const tunnel: TunnelState =
    ssh === undefined ? 'none' : ssh.status === 'ok' ? 'up' : ssh.status === 'failed' ? 'down' : 'not tried';
  return {
    ...target,
    ok: !failed,
    latencyMs: hops.reduce((sum, h) => sum + (h.latencyMs ?? 0), 0),
    tunnel,
    hops,
  };
}

/** The hop that failed, if any. */
export function failedHop(p: ConnectionProbe): HopResult | undefined {
  return p.hops.find((h) => h.status === 'failed');
}

/**
 * One line naming every failed connection and its hop, for the error that ends the command; undefined when all
 * passed. `configOnly` is true when every failure is a configuration problem (nothing was unreachable).
 */
export function summarizeFailures(
  probes: readonly ConnectionProbe[],
): { message: string; configOnly: boolean } | undefined {
  const failures = probes.flatMap((p) => {
    const h = failedHop(p);
    return h ? [{ p, h }] : [];
  });
  if (failures.length === 0) return undefined;
  const parts = failures.map(({ p, h }) => `${p.connection} (${p.role} ${p.kind}: ${h.kind} hop ${h.address})`);
  return {
    message: `${failures.length} of ${probes.length} connection${probes.length === 1 ? '' : 's'} failed: ${parts.join(', ')}`,
    configOnly: failures.every(({ h }) => h.errorName === 'ConfigError'),
  };
}
