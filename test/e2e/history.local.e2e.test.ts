/** The history suite on the local warehouse (DuckDB). */
import { describeHistory } from './history.suite.js';

describeHistory();
