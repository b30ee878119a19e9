/** `@duckdb/node-api` in the Lambda bundles: every name the duckdb adapter imports, failing when used. */
import { unavailable, unavailableClass } from './unavailable.js';

const M = '@duckdb/node-api';
const fail = (): never => unavailable(M);

export const DuckDBInstance = unavailableClass(M);
export const DuckDBArrayValue = unavailableClass(M);
export const DuckDBBlobValue = unavailableClass(M);
export const DuckDBDecimalValue = unavailableClass(M);
export const DuckDBListValue = unavailableClass(M);
export const DuckDBMapValue = unavailableClass(M);
export const DuckDBStructValue = unavailableClass(M);
export const DuckDBTimestampTZValue = unavailableClass(M);
export const DuckDBTimestampValue = unavailableClass(M);
export const DuckDBUnionValue = unavailableClass(M);
export const LIST = fail;
export const listValue = fail;
export const blobValue = fail;
export const timestampTZValue = fail;
export const VARCHAR = Object.freeze({});
