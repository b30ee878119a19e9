/** The history suite on the local warehouse (DuckDB); the warehouse is changed behind Highwater's back in its file. */
import { queryWarehouse } from '../support/warehouse-file.js';
import { describeHistory } from './history.suite.js';

describeHistory(async (h, sql) => {
  await queryWarehouse(h.home, sql);
});
