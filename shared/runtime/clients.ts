import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';

/**
 * AWS clients, created once per cold start. Endpoints come from the standard AWS_ENDPOINT_URL_* variables,
 * which is how the local stack points the same code at dynalite and the local servers.
 */
export interface AwsClients {
  dynamodb: DynamoDBClient;
  eventbridge: EventBridgeClient;
  sagemaker: SageMakerRuntimeClient;
}

export function createAwsClients(): AwsClients {
  return {
    dynamodb: new DynamoDBClient({}),
    eventbridge: new EventBridgeClient({}),
    // The embedder owns timeouts and retries; SDK retries would multiply with them.
    sagemaker: new SageMakerRuntimeClient({ maxAttempts: 1 }),
  };
}
