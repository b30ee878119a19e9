/**
 * The history suite on the AWS stand-ins: Redshift SQL run by the Data API stand-in over PostgreSQL, which the
 * suite also changes directly behind Highwater's back.
 */
import pg from 'pg';
import { startAwsStandins } from '../support/aws-standins.js';
import { describeHistory } from './history.suite.js';

let connectionString = '';
describeHistory(
  async (_h, sql) => {
    const client = new pg.Client({ connectionString });
    await client.connect();
    try {
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
