/**
 * The same end-to-end strategy suite with the AWS adapters, on stand-ins: S3 staging on fauxqs, state on DynamoDB
 * Local, and Redshift through the Data API stand-in over PostgreSQL.
 */
import { startAwsStandins } from '../support/aws-standins.js';
import { describeStrategies } from './strategies.suite.js';

describeStrategies(startAwsStandins);
