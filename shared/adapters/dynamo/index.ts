/** DynamoDB adapters, one file per aggregate: the customer, the model, the run, the quarantine. */
export { documentClient } from './client';
export { DynamoEventLog, DynamoProfileStore } from './customer-store';
export { DynamoModelStore } from './model-store';
export { DynamoQuarantine } from './quarantine';
export { DynamoRunStore } from './run-store';
