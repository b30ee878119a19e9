/** The five strategies by their YAML names (the old tool's names, kept). */
import type { CdcStrategy } from '../../domain/config.js';
import { customSql } from './custom-sql.js';
import { fullSync } from './full-sync.js';
import { hybrid } from './hybrid.js';
import { idOnly } from './id-only.js';
import type { Strategy } from './strategy.js';
import { timestampOnly } from './timestamp-only.js';

const STRATEGIES: Readonly<Record<CdcStrategy, Strategy>> = {
  hybrid,
  timestamp_only: timestampOnly,
  id_only: idOnly,
  full_sync: fullSync,
  custom_sql: customSql,
};

export function strategyFor(name: CdcStrategy): Strategy {
  return STRATEGIES[name];
}

export type { Strategy, TableContext } from './strategy.js';
