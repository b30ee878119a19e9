/** The mode banner. Users' scripts grep the first line of each mode, so those strings never change. */
import { join } from 'node:path';
import type { LoadedConfig } from '../../domain/config.js';

export const SINGLE_MODE_BANNER = '🔄 v1.0.0 Compatibility Mode';
export const DEFAULT_PIPELINE_BANNER = '📋 Using default pipeline configuration';

export function modeBanner(cfg: LoadedConfig, pipeline = 'default'): string[] {
  const where = `Config: ${cfg.mode === 'single' ? 'the environment (MYSQL_*, .env)' : join(cfg.configDir, 'connections.yml')}; home: ${cfg.home}`;
  if (cfg.mode === 'single') return [SINGLE_MODE_BANNER, `Single-connection mode: ${cfg.reason}`, where];
  const lines = pipeline === 'default' ? [DEFAULT_PIPELINE_BANNER] : [];
  lines.push(`Multi-connection mode: ${cfg.reason}`);
  if (pipeline !== 'default') lines.push(`Using pipeline ${pipeline}`);
  lines.push(where);
  return lines;
}
