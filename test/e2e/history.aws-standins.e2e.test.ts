/** The history suite on the AWS stand-ins: Redshift SQL run by the Data API stand-in over PostgreSQL. */
import { startAwsStandins } from '../support/aws-standins.js';
import { describeHistory } from './history.suite.js';

describeHistory(startAwsStandins);
