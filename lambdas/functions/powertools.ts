/** The container's Powertools Logger and Metrics singletons (structured JSON logs, CloudWatch EMF metrics). */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { functionEnv } from './env.js';

export const logger = new Logger({
  serviceName: functionEnv.POWERTOOLS_SERVICE_NAME,
  logLevel: functionEnv.POWERTOOLS_LOG_LEVEL,
});

export const metrics = new Metrics({
  serviceName: functionEnv.POWERTOOLS_SERVICE_NAME,
  namespace: functionEnv.POWERTOOLS_METRICS_NAMESPACE,
});

/** One metric with a `table` dimension, flushed at once (a buffered one would share dimensions across tables). */
export function countMetric(name: 'RowsSynced' | 'ChunkRows' | 'TableDiffers', table: string, value: number): void {
  const m = metrics.singleMetric();
  m.addDimension('table', table);
  m.addMetric(name, MetricUnit.Count, value);
}

/** A metric with only the service dimension: what a stack alarm watches across every table. */
export function serviceMetric(name: 'TableDiffers', value: number): void {
  metrics.singleMetric().addMetric(name, MetricUnit.Count, value);
}
