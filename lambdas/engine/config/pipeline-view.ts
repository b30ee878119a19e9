/** A resolved pipeline as plain data for `config show-pipeline`, with every secret masked. No I/O. */

import type {
  PipelineConfig,
  SecretRef,
  SourceConnection,
  TableConfig,
  TargetConnection,
} from '../../domain/config.js';
import { strategyFor } from '../strategies/index.js';
import type { Strategy } from '../strategies/strategy.js';

export const MASK = '***';

/** A literal secret becomes `***`; a reference is shown as written (`${VAR}`, `{secret, key}`), never resolved. */
export function maskSecret(ref: SecretRef | undefined): string | { secret: string; key?: string } | undefined {
  if (ref === undefined) return undefined;
  if (ref.kind === 'literal') return MASK;
  if (ref.kind === 'env') return `\${${ref.name}}`;
  return ref.key === undefined ? { secret: ref.secretId } : { secret: ref.secretId, key: ref.key };
}

function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

export function sourceView(s: SourceConnection): Record<string, unknown> {
  const t = s.sshTunnel;
  return defined({
    name: s.name,
    host: s.host,
    port: s.port,
    database: s.database,
    username: s.username,
    password: maskSecret(s.password),
    description: s.description,
    sshTunnel: t
      ? defined({
          host: t.host,
          port: t.port,
          username: t.username,
          privateKeyPath: t.privateKeyPath,
          privateKey: maskSecret(t.privateKey),
          hostKeySha256: t.hostKeySha256,
          acceptUnpinnedHostKey: t.acceptUnpinnedHostKey,
          connectTimeoutSeconds: t.connectTimeoutSeconds,
          keepaliveSeconds: t.keepaliveSeconds,
        })
      : undefined,
  });
}

export function targetView(t: TargetConnection): Record<string, unknown> {
  if (t.type === 'duckdb') return { ...t };
  return defined({ ...t, password: maskSecret(t.password) });
}

function shown(t: TableConfig, key: Parameters<Strategy['shownKeys']['has']>[0]): boolean {
  return strategyFor(t.strategy).shownKeys.has(key);
}

export function pipelineView(p: PipelineConfig): Record<string, unknown> {
  return defined({
    name: p.name,
    file: p.origin,
    description: p.description,
    source: sourceView(p.source),
    target: targetView(p.target),
    staging: p.staging,
    state: p.state,
    processing: p.processing,
    schedule: p.schedule,
    tables: p.tables.map((t) =>
      defined({
        name: t.name,
        strategy: t.strategy,
        timestampColumn: shown(t, 'timestampColumn') ? t.timestampColumn : undefined,
        timestampFormat: shown(t, 'timestampFormat') ? t.timestampFormat : undefined,
        idColumn: shown(t, 'idColumn') ? t.idColumn : undefined,
        target: `${p.target.schema}.${t.targetName}`,
        fullSyncMode: shown(t, 'fullSyncMode') ? t.fullSyncMode : undefined,
        reads: strategyFor(t.strategy).describe(t),
        customQuery: t.customQuery,
        additionalWhere: t.additionalWhere,
        lagSeconds: t.lagSeconds,
        lookbackSeconds: t.lookbackSeconds,
        clockSkewSeconds: t.clockSkewSeconds,
        onColumnDrop: t.onColumnDrop,
        chunkRows: t.chunkRows,
        batchSize: t.batchSize,
        primaryKey: t.primaryKey,
        distkey: t.distkey,
        sortkey: t.sortkey,
        diststyle: t.diststyle,
        deleteDetection: t.deleteDetection,
      }),
    ),
  });
}
