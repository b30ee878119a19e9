/** The verify suite on the local warehouse (DuckDB); differences are planted in the DuckDB file directly. */
import { queryWarehouse } from '../support/warehouse-file.js';
import { describeVerify } from './verify.suite.js';

describeVerify(async (h, sql) => {
  await queryWarehouse(h.home, sql);
});
