/**
 * `highwater connections list|test|health|info`: the configured sources and targets, and whether they answer.
 * Works in both configuration modes (single-connection mode shows its `default` source and target) and says which.
 */
import { Command, Option } from 'commander';
import type { LoadedConfig } from '../../../../lambdas/domain/config.js';
import { configEnv } from '../../../../lambdas/engine/config/index.js';
import { ConfigError, ConnectionError, ExitCode } from '../../../../lambdas/errors.js';
import {
  type AnyConnection,
  allConnections,
  CONNECTION_KINDS,
  connectionSettings,
  listEntry,
} from '../../../../lambdas/local/engine/diagnostics/describe.js';
import {
  type ConnectionProbe,
  failedHop,
  summarizeFailures,
} from '../../../../lambdas/local/engine/diagnostics/probe.js';
import { type GlobalOptions, withContext } from '../../context.js';
import { ExitError } from '../../exit.js';
import { positiveInt } from '../../options.js';
import { type Output, table } from '../../output.js';

export const LIST_HEADING = 'Available Database Connections';
const DEFAULT_TIMEOUT_SECONDS = 10;

export function modeLine(cfg: LoadedConfig): string {
  return cfg.mode === 'single'
    ? `Mode: single-connection (v1.0.0 compatibility): ${cfg.reason}`
    : `Mode: multi-connection (v1.1.0): ${cfg.reason}`;
}

/** The connections called `name` (a source and a target may share one, as `default` does in single mode). */
function named(cfg: LoadedConfig, name: string): AnyConnection[] {
  const all = allConnections(cfg);
  const found = all.filter((c) => c.connection.name === name);
  if (found.length > 0) return found;
  const known = [...new Set(all.map((c) => c.connection.name))];
  throw new ConfigError(
    `unknown connection ${JSON.stringify(name)}; known connections: ${known.length ? known.join(', ') : '(none)'}`,
    { suggestion: 'Run `highwater connections list` to see them.' },
  );
}

function label(c: { role: string; kind: string }): string {
  return `${c.role} ${c.kind}`;
}

function ms(n: number | undefined): string {
  return n === undefined ? '-' : `${n} ms`;
}

function printProbe(out: Output, p: ConnectionProbe): void {
  out.data(`${p.connection} (${label(p)})`);
  const rows = p.hops.map((h) => {
    const facts = Object.entries(h.facts).map(([k, v]) => `${k}: ${v}`);
    const detail =
      h.status === 'ok'
        ? [h.measures, ...facts].join('; ')
        : h.status === 'failed'
          ? `${h.measures}: ${h.error ?? 'failed'}`
          : 'skipped (an earlier hop failed)';
    return [
      `  ${h.status === 'ok' ? 'ok' : h.status === 'failed' ? 'FAILED' : 'skipped'}`,
      h.kind,
      h.address,
      ms(h.latencyMs),
      detail,
    ];
  });
  for (const l of table(rows)) out.data(l);
  const bad = failedHop(p);
  out.data(
    bad
      ? `${p.connection}: FAILED at the ${bad.kind} hop (${bad.address})`
      : `${p.connection}: ok (${ms(p.latencyMs)}${p.tunnel === 'up' ? ', through the SSH tunnel' : ''})`,
  );
}

/** Ends the command: exit 2 when anything was unreachable, 1 when every failure is a configuration problem. */
function failIfAny(probes: ConnectionProbe[]): void {
  const failure = summarizeFailures(probes);
  if (!failure) return;
  if (failure.configOnly) throw new ConfigError(failure.message);
  throw new ConnectionError(failure.message);
}

function timeoutOption(): Option {
  return new Option('--timeout <seconds>', 'deadline of each hop (connect, handshake, query)')
    .argParser(positiveInt('--timeout'))
    .default(DEFAULT_TIMEOUT_SECONDS);
}

export function connectionsCommand(global: () => GlobalOptions): Command {
  const cmd = new Command('connections').description('list, test and inspect the configured database connections');

  cmd
    .command('list')
    .description('list the named sources and targets of config/connections.yml (multi-connection mode)')
    .addOption(new Option('--type <kind>', 'only connections of this kind').choices([...CONNECTION_KINDS]))
    .option('--json', 'print as JSON (an array)')
    .addHelpText(
      'after',
      `
In single-connection mode (no config/connections.yml) it exits 1 and says so on stderr, naming the connections
the environment defines, so the migration guide's mode check keeps working:
  highwater connections list 2>/dev/null && echo "v1.1.0 mode" || echo "v1.0.0 mode"
Examples:
  highwater connections list
  highwater connections list --type mysql --json`,
    )
    .action(async (o: { type?: (typeof CONNECTION_KINDS)[number]; json?: boolean }) =>
      withContext(global(), o.json, async ({ config, out }) => {
        const entries = allConnections(config)
          .filter((c) => o.type === undefined || c.kind === o.type)
          .map(listEntry);
        if (config.mode === 'single') {
          // The old tool failed here outside multi-schema mode, and scripts tell the mode by this exit status.
          out.info(`${modeLine(config)}`);
          out.info('no named connections; the environment defines:');
          for (const e of entries) out.info(`  ${e.name}  ${label(e)}  ${e.address}  ${e.database ?? '-'}`);
          out.info('run `highwater config setup` to name connections in config/connections.yml');
          throw new ExitError(ExitCode.config);
        }
        if (out.opts.json) {
          out.json(entries);
          return;
        }
        out.data(LIST_HEADING);
        out.data(modeLine(config));
        out.data();
        if (entries.length === 0) {
          out.data(o.type ? `no ${o.type} connections` : 'no connections');
          return;
        }
        const rows = [['name', 'kind', 'address', 'database', 'tunnel']];
        for (const e of entries) {
          rows.push([e.name, label(e), e.address, e.database ?? '-', e.via ? `yes (${e.via})` : 'no']);
        }
        for (const l of table(rows, true)) out.data(l);
      }),
    );

  cmd
    .command('test')
    .description('connect to one connection (or all) hop by hop: SSH bastion, then MySQL; or the warehouse')
    .argument('[name]', 'connection name (see connections list)')
    .option('--all', 'test every connection')
    .addOption(timeoutOption())
    .option('--json', 'print the results as JSON (an array)')
    .addHelpText(
      'after',
      `
Exit code 2 if any connection fails (the hop that failed is named), 1 for an unknown name or a settings problem.
Examples:
  highwater connections test mysql_default
  highwater connections test --all --timeout 5`,
    )
    .action(async (name: string | undefined, o: { all?: boolean; timeout: number; json?: boolean }) =>
      withContext(global(), o.json, async ({ config, runtime, out }) => {
        if (name === undefined && !o.all) throw new ConfigError('connections test needs a connection name or --all');
        if (name !== undefined && o.all) throw new ConfigError('give either a connection name or --all, not both');
        const targets = name === undefined ? allConnections(config) : named(config, name);
        const probes: ConnectionProbe[] = [];
        for (const c of targets) {
          out.info(`testing ${c.connection.name} (${label(c)})…`);
          const p = await (await import('./probes.js')).probe(c, {
            config,
            runtime,
            timeoutMs: o.timeout * 1000,
          });
          probes.push(p);
          if (!out.opts.json) printProbe(out, p);
        }
        if (out.opts.json) out.json(probes);
        failIfAny(probes);
      }),
    );

  cmd
    .command('health')
    .description('test every connection at once: one line each')
    .addOption(timeoutOption())
    .option('--json', 'print the results as JSON (an array)')
    .addHelpText('after', '\nExit code 2 if any connection is down.\nExample:\n  highwater connections health --json')
    .action(async (o: { timeout: number; json?: boolean }) =>
      withContext(global(), o.json, async ({ config, runtime, out }) => {
        const all = allConnections(config);
        const probes = await Promise.all(
          all.map(async (c) =>
            (await import('./probes.js')).probe(c, { config, runtime, timeoutMs: o.timeout * 1000 }),
          ),
        );
        if (out.opts.json) {
          out.json(probes);
        } else {
          out.data(modeLine(config));
          const rows = [['name', 'kind', 'status', 'latency', 'tunnel', '']];
          for (const p of probes) {
            const bad = failedHop(p);
            rows.push([
              p.connection,
              label(p),
              p.ok ? 'ok' : 'FAILED',
              ms(p.latencyMs),
              p.tunnel,
              bad ? `${bad.kind} ${bad.address}: ${bad.error ?? 'failed'}` : '',
            ]);
          }
          for (const l of table(rows, true)) out.data(l);
          const down = probes.filter((p) => !p.ok).length;
          out.data(down === 0 ? `all ${probes.length} connections ok` : `${down} of ${probes.length} connections down`);
        }
        failIfAny(probes);
      }),
    );

  cmd
    .command('discover')
    .description(
      "a source's tables: row estimates, primary keys and a suggested strategy; --write adds them to a pipeline",
    )
    .argument('<source>', 'source connection name (see connections list)')
    .option('--write <pipeline>', 'add the tables config/pipelines/PIPELINE.yml does not list yet (created if missing)')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      `
The suggestion reads the schema only: check it against how the application writes each table (id_only copies
new rows only; full_sync copies the whole table every run).
Examples:
  highwater connections discover shop
  highwater connections discover shop --write sales`,
    )
    .action(async (name: string, o: { write?: string; json?: boolean }) =>
      withContext(global(), o.json, async ({ config, runtime, out }) => {
        const { discoverTables, writeDiscovered } = await import('./discover.js');
        const tables = await discoverTables(runtime, config, name);
        const written = o.write ? await writeDiscovered(config, o.write, name, tables, process.cwd()) : undefined;
        if (out.opts.json) {
          out.json({ source: name, tables, ...(written ? { written } : {}) });
          return;
        }
        const rows = [['table', 'rows (estimate)', 'primary key', 'suggested', 'why']];
        for (const t of tables) {
          const cols = [t.suggestion.timestampColumn, t.suggestion.idColumn].filter(Boolean).join(', ');
          rows.push([
            t.name,
            t.rowsEstimate === null ? '-' : t.rowsEstimate.toLocaleString('en-US'),
            t.primaryKey.join(', ') || '(none)',
            cols ? `${t.suggestion.strategy} (${cols})` : t.suggestion.strategy,
            t.suggestion.why,
          ]);
        }
        if (tables.length === 0) out.data(`source ${name}: no tables`);
        else for (const l of table(rows, true)) out.data(l);
        if (written) {
          out.data(
            written.added.length
              ? `added ${written.added.length} table(s) to ${written.file}: ${written.added.join(', ')}`
              : `${written.file} already lists every table`,
          );
        }
      }),
    );

  cmd
    .command('info')
    .description('every setting of a connection (passwords and private keys masked)')
    .argument('<name>', 'connection name (see connections list)')
    .option('--json', 'print as JSON (an array: a source and a target may share a name)')
    .addHelpText(
      'after',
      `
Secrets are never printed: a literal one shows as ***, an \${ENV} reference as the reference.
Example:
  highwater connections info mysql_default`,
    )
    .action(async (name: string, o: { json?: boolean }) =>
      withContext(global(), o.json, async ({ config, out }) => {
        const env = configEnv(config);
        const isSet = (v: string) => env[v] !== undefined;
        const found = named(config, name).map((c) => ({
          name: c.connection.name,
          role: c.role,
          kind: c.kind,
          settings: connectionSettings(c, isSet),
        }));
        if (out.opts.json) {
          out.json(found);
          return;
        }
        for (const [i, f] of found.entries()) {
          if (i > 0) out.data();
          out.data(`${f.name} (${label(f)})`);
          for (const l of table(Object.entries(f.settings))) out.data(`  ${l}`);
        }
      }),
    );

  return cmd;
}
