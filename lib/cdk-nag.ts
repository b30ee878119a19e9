/** cdk-nag is CommonJS whose exports Node's ESM loader cannot detect: import it as a whole, once, here. */
import cdkNag from 'cdk-nag';

export const { AwsSolutionsChecks } = cdkNag;
