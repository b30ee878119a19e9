/**
 * `highwater lease list|release`: the leases that keep two runs off one table, who holds them, and freeing one
 * whose process is gone. A lease whose process still runs on this host is never released by hand: stopping that
 * process (Ctrl-C) ends its run and releases the lease itself.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import type { LoadedConfig, PipelineConfig } from '../../../lambdas/domain/config.js';
import { getTableConfig } from '../../../lambdas/engine/config/index.js';
import { parseTableKey, pipelineTableParts, tableKey } from '../../../lambdas/engine/naming.js';
import { ConfigError } from '../../../lambdas/errors.js';
import { failAbandonedRun } from '../../../lambdas/handlers/lease.js';
import type { Runtime } from '../../../lambdas/local/runtime.js';
import type { HolderState, Lease, Processes, StateStore } from '../../../lambdas/ports/index.js';
import { confirmed } from '../confirm.js';
import { type GlobalOptions, withContext } from '../context.js';
import { type Output, table } from '../output.js';

/** A lease as `lease list --json` prints it. */
export interface LeaseView {
  tableKey: string;
  pipeline: string;
  table: string;
  /** The run holding the lease. */
  run: string;
  host: string | null;
  pid: number | null;
  /** alive/dead: the process on this host runs or is gone; other-host: cannot tell from here; unknown: none recorded. */
  process: HolderState['state'];
  /** Whether the holder's process runs; null when that cannot be told from this host. */
  alive: boolean | null;
  expiresAt: string;
  expired: boolean;
}

function viewOf(lease: Lease, now: string, processes: Processes): LeaseView {
  const k = parseTableKey(lease.tableKey);
  const state = processes.stateOf(lease.owner).state;
  return {
    tableKey: lease.tableKey,
    pipeline: k.pipeline,
    table: k.table,
    run: lease.holder,
    host: lease.owner?.host ?? null,
    pid: lease.owner?.pid ?? null,
    process: state,
    alive: state === 'alive' ? true : state === 'dead' ? false : null,
    expiresAt: lease.expiresAt,
    expired: lease.expiresAt <= now,
  };
}

const PROCESS_TEXT: Record<HolderState['state'], string> = {
  alive: 'running',
  dead: 'gone',
  'other-host': 'another host',
  unknown: '-',
};

/** Reading leases must not create state: a local state file that does not exist yet holds none. */
function stateExists(cfg: LoadedConfig, p: PipelineConfig): boolean {
  return p.state.type !== 'local' || existsSync(resolve(cfg.home, p.state.path));
}

/** The state stores of the pipelines asked for, each once (pipelines may share one), and the pipelines read. */
async function storesOf(rt: Runtime, out: Output, only: string | undefined): Promise<StateStore[]> {
  const stores = new Set<StateStore>();
  for (const name of only ? [only] : rt.config.pipelines) {
    let p: PipelineConfig;
    try {
      p = rt.pipeline(name);
    } catch (e) {
      // An unknown -p is an error; a broken file among many is reported and the rest still listed.
      if (only || !(e instanceof ConfigError)) throw e;
      out.warn(`pipeline ${name}: ${e.message}`);
      continue;
    }
    if (stateExists(rt.config, p)) stores.add(await rt.state(p));
  }
  return [...stores];
}

function describeHolder(lease: Lease, state: HolderState): string {
  const o = lease.owner;
  if (o === null) return `run ${lease.holder} (no process recorded)`;
  const where = `process ${o.pid} on ${o.host}`;
  if (state.state === 'dead') return `run ${lease.holder} (${where}, which is gone)`;
  if (state.state === 'other-host') return `run ${lease.holder} (${where}: another host, make sure it is not running)`;
  return `run ${lease.holder} (${where})`;
}

export function leaseCommand(global: () => GlobalOptions): Command {
  const cmd = new Command('lease').description("show and free tables' leases (one run per table at a time)");

  cmd
    .command('list')
    .description('list every lease: table key, run, holding process and whether it still runs, expiry')
    .option('-p, --pipeline <name>', "only this pipeline's leases")
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      `
A process is checked only on the host it runs on: elsewhere it shows as "another host".
Examples:
  highwater lease list
  highwater lease list -p sales --json`,
    )
    .action(async (o: { pipeline?: string; json?: boolean }) =>
      withContext(global(), o.json, async ({ runtime: rt, out }) => {
        const now = new Date().toISOString();
        const leases: LeaseView[] = [];
        for (const store of await storesOf(rt, out, o.pipeline)) {
          for (const l of await store.listLeases()) {
            const view = viewOf(l, now, rt.processes);
            if (o.pipeline === undefined || view.pipeline === o.pipeline) leases.push(view);
          }
        }
        leases.sort((a, b) => (a.tableKey < b.tableKey ? -1 : a.tableKey > b.tableKey ? 1 : 0));
        if (out.opts.json) {
          out.json(leases);
          return;
        }
        if (leases.length === 0) {
          out.data('no leases held');
          return;
        }
        const rows = [['table key', 'run', 'host', 'pid', 'process', 'expires']];
        for (const l of leases) {
          rows.push([
            l.tableKey,
            l.run,
            l.host ?? '-',
            l.pid === null ? '-' : String(l.pid),
            PROCESS_TEXT[l.process],
            `${l.expiresAt}${l.expired ? ' (expired)' : ''}`,
          ]);
        }
        for (const line of table(rows, true)) out.data(line);
      }),
    );

  cmd
    .command('release')
    .description("free a table's lease whose run is no longer running, and mark that run failed")
    .requiredOption('-t, --table <schema.table>', 'table')
    .option('-p, --pipeline <name>', 'pipeline', 'default')
    .option('-y, --yes', 'do not ask for confirmation')
    .addHelpText(
      'after',
      `
Refused while the holding process still runs on this host: stop it instead (Ctrl-C ends its run and frees the
lease). A lease held from another host cannot be checked from here; make sure that run is not running. The next
sync reads the released run's window again.
Examples:
  highwater lease release -t shop.orders
  highwater lease release -t shop.orders -p sales --yes`,
    )
    .action(async (o: { table: string; pipeline: string; yes?: boolean }) =>
      withContext(global(), false, async ({ runtime: rt, out }) => {
        const p = rt.pipeline(o.pipeline);
        const key = tableKey(pipelineTableParts(p, getTableConfig(p, o.table).name));
        if (!stateExists(rt.config, p)) {
          out.data(`${o.table}: no lease is held (no state yet)`);
          return;
        }
        const state = await rt.state(p);
        const lease = await state.getLease(key);
        if (lease === undefined) {
          out.data(`${o.table}: no lease is held`);
          return;
        }
        const verdict = rt.processes.stateOf(lease.owner);
        if (verdict.state === 'alive') {
          throw new ConfigError(
            `${o.table}: the lease is held by ${describeHolder(lease, verdict)}, which is still running on this host; refusing to release it`,
            {
              suggestion: `Stop that process (Ctrl-C or kill ${verdict.owner.pid} ends its run and releases the lease), or wait for it to finish.`,
            },
          );
        }
        const holder = describeHolder(lease, verdict);
        const go = await confirmed({
          yes: o.yes,
          question: `Release the lease of ${o.table} held by ${holder}?`,
          command: 'lease release',
          unattended: 'refuse',
          checkFirst: '`highwater lease list`',
        });
        if (!go) {
          out.info('left unchanged');
          return;
        }
        await state.releaseLease(key, lease.holder);
        const marked = await failAbandonedRun(
          state,
          lease.holder,
          'lease released by hand (highwater lease release); its window will be read again',
        );
        const run = marked
          ? `run ${lease.holder} marked failed; the next sync reads its window again`
          : `run ${lease.holder} left as it was (${(await state.getRun(lease.holder))?.status ?? 'not in the ledger'})`;
        out.data(`${o.table}: lease released; ${run}`);
      }),
    );
  return cmd;
}
