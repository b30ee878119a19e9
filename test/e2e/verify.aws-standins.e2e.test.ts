/**
 * The verify suite on the AWS stand-ins: the warehouse side of every checksum is Redshift SQL, run by the Data
 * API stand-in over PostgreSQL; differences are planted in that PostgreSQL directly.
 */
import { standinsWithDirectSql } from '../support/aws-standins.js';
import { describeVerify } from './verify.suite.js';

const standins = standinsWithDirectSql();
describeVerify((_h, sql) => standins.execute(sql), standins.start);
