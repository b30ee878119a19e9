/**
 * The history suite on the AWS stand-ins: Redshift SQL run by the Data API stand-in over PostgreSQL, which the
 * suite also changes directly behind Highwater's back.
 */
import { standinsWithDirectSql } from '../support/aws-standins.js';
import { describeHistory } from './history.suite.js';

const standins = standinsWithDirectSql();
describeHistory((_h, sql) => standins.execute(sql), standins.start);
