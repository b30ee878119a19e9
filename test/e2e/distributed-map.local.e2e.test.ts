/** The Distributed Map path on local adapters (staging directory, SQLite, DuckDB). */
import { describeDistributedMap } from './distributed-map.suite.js';

describeDistributedMap();
