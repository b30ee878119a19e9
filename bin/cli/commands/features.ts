/** `highwater features`: what this build supports, per configuration mode and per adapter (local or AWS). */
import { Command } from 'commander';
import type { AdapterFeature } from '../../../lambdas/local/engine/diagnostics/features.js';
import { type GlobalOptions, outputFor } from '../context.js';
import { table } from '../output.js';
import { VERSION } from '../version.js';
import { configModeInfo, modeTitle } from './version.js';

function adapterRows(title: string, fs: AdapterFeature[]): string[][] {
  return fs.map((f, i) => [i === 0 ? title : '', f.name, f.adapter, f.modes.join(', '), f.description]);
}

export function featuresCommand(global: () => GlobalOptions): Command {
  const cmd = new Command('features')
    .description('list what this build supports: CDC strategies, adapters, modes, tunnels, remote runs')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExamples:\n  highwater features\n  highwater features --json');
  cmd.action(async (o: { json?: boolean }) => {
    const g = global();
    const out = outputFor(g, o.json);
    const config = await configModeInfo(g);
    const { featureReport } = await import('../../../lambdas/local/engine/diagnostics/features.js');
    const report = featureReport();
    const commands = (cmd.parent?.commands ?? []).map((c) => c.name()).sort();
    if (out.opts.json) {
      out.json({ version: VERSION, currentMode: config.mode, ...report, commands });
      return;
    }
    out.data(`highwater ${VERSION} — current mode: ${modeTitle(config.mode)}`);
    out.data();
    out.data('CDC strategies (all five are executed):');
    for (const l of table(report.cdcStrategies.map((s) => [`  ${s.name}`, s.description]))) out.data(l);
    out.data();
    out.data('Adapters:');
    const rows = [
      ['  port', 'name', 'runs', 'modes', 'what'],
      ...adapterRows('  staging', report.staging),
      ...adapterRows('  state', report.state),
      ...adapterRows('  warehouse', report.warehouse),
    ];
    for (const l of table(rows)) out.data(l);
    out.data();
    for (const m of report.modes) {
      out.data(`${m.title}${m.mode === config.mode ? '  ← in effect' : ''}:`);
      for (const l of table([
        ['  configured by', m.configuredBy],
        ['  connections', m.connections],
        ['  pipelines', m.pipelines],
        ['  ssh tunnel', m.sshTunnel],
      ]))
        out.data(l);
    }
    out.data();
    for (const l of table([
      ['ssh tunnel', report.sshTunnel],
      ['remote runs', report.remoteRuns],
      ['secrets', report.secrets],
      ['commands', commands.join(', ')],
    ]))
      out.data(l);
  });
  return cmd;
}
