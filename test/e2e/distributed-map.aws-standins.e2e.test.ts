/** The Distributed Map path on the AWS stand-ins: the plan staged in S3 (fauxqs), DynamoDB Local, Redshift stand-in. */
import { startAwsStandins } from '../support/aws-standins.js';
import { describeDistributedMap } from './distributed-map.suite.js';

describeDistributedMap(startAwsStandins);
