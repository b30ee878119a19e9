/** Configuration loading for both modes of the migration guide. Everything else imports from here. */

export * from '../../domain/config.js';
export { DEFAULT_PIPELINE_BANNER, modeBanner, SINGLE_MODE_BANNER } from './banner.js';
export { parseDuration } from './duration.js';
export { DEFAULT_PROCESSING } from './env-mode.js';
export type { Env } from './interpolate.js';
export { type ConfigJsonSchemas, configJsonSchema } from './json-schema.js';
export {
  adhocPipeline,
  configEnv,
  getPipeline,
  getTableConfig,
  type LoadConfigOptions,
  type LoadedConfigWithWarnings,
  loadConfig,
  requireSource,
  secretFromEnv,
  takesUnlistedTables,
} from './loader.js';
export { describeSchedule, nextFireTime, type ParsedSchedule, parseSchedule } from './schedule.js';
export { inDependencyOrder, isPattern, type SourceTableLister, selectTables } from './table-selection.js';
