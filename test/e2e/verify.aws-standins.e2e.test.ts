/**
 * The verify suite on the AWS stand-ins: the warehouse side of every checksum is Redshift SQL, run by the Data
 * API stand-in over PostgreSQL; differences are planted in that PostgreSQL directly.
 */
import pg from 'pg';
import { startAwsStandins } from '../support/aws-standins.js';
import { describeVerify } from './verify.suite.js';

let connectionString = '';
describeVerify(
  async (_h, sql) => {
    const client = new pg.Client({ connectionString });
    await client.connect();
    try {
      // JSON_PARSE and FROM_HEX are the stand-in's Redshift functions (in public, on the search path).
      await client.query(sql);
    } finally {
      await client.end();
    }
  },
  async () => {
    const s = await startAwsStandins();
    connectionString = s.postgres.connectionString;
    return s;
  },
);
