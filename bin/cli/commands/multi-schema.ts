/**
 * `highwater multi-schema info`: the old tool's troubleshooting command, kept so scripts and habits still work.
 * Multi-connection support is always built in here; this says which mode is in effect and what decides it.
 */
import { Command } from 'commander';
import { type GlobalOptions, outputFor } from '../context.js';
import { configModeInfo, modeTitle } from './version.js';

export function multiSchemaCommand(global: () => GlobalOptions): Command {
  const cmd = new Command('multi-schema').description('the old tool’s multi-schema status (kept for scripts)');
  cmd
    .command('info')
    .description('whether multi-connection (multi-schema) mode is in effect, and why')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      `
Multi-connection mode needs no feature flag: config/connections.yml with named connections turns it on
(ENABLE_MULTI_SCHEMA=true forces it; removing connections.yml or \`config reset\` turns it off).
Example:
  highwater multi-schema info`,
    )
    .action(async (o: { json?: boolean }) => {
      const g = global();
      const out = outputFor(g, o.json);
      const info = await configModeInfo(g);
      const forcedBy = ['HIGHWATER_MULTI_SCHEMA', 'ENABLE_MULTI_SCHEMA'].find((n) => process.env[n] !== undefined);
      if (out.opts.json) {
        out.json({ available: true, ...info, forcedBy: forcedBy ?? null });
        return;
      }
      out.data('multi-schema support: built in (no flag needed)');
      out.data(`mode: ${modeTitle(info.mode)}`);
      out.data(`why:  ${info.reason}`);
      if (forcedBy) out.data(`${forcedBy}=${process.env[forcedBy]} is set`);
      out.data('more: highwater config status, highwater features');
    });
  return cmd;
}
