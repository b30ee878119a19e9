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
      // The stand-in's Redshift functions (JSON_PARSE, FROM_HEX) live in public; the SQL names them unqualified.
      await client.query(sql.replace(/JSON_PARSE\(/g, 'public.json_parse(').replace(/FROM_HEX\(/g, "decode("));
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
