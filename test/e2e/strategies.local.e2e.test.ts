/** Every strategy end to end on this machine's local adapters: Parquet on disk, SQLite state, DuckDB. */
import { describeStrategies } from './strategies.suite.js';

describeStrategies();
