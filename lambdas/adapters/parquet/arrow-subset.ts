/**
 * The part of Apache Arrow the encode worker uses: its types, a record batch's data, and the IPC stream parquet-wasm
 * reads. scripts/bundle-cli.mjs bundles this module alone, tree-shaken, next to the bundled worker (`arrow.cjs`):
 * it loads in about a third of the time of the whole package, which every sync's worker start paid (decision 0007,
 * sixth round). Elsewhere (the TypeScript sources, tsc's modules) the worker requires the package itself.
 */
export {
  Binary,
  Bool,
  DateDay,
  Decimal,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMicrosecond,
  tableToIPC,
  Utf8,
} from 'apache-arrow';
