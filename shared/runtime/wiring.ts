/**
 * The one place adapters are built: the Lambdas (per cold start), the local stack and the CLI all call these, so that
 * the same adapter, configured the same way, runs everywhere. Each factory takes only the slice of configuration it
 * needs.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import {
  DynamoEventLog,
  DynamoModelStore,
  DynamoProfileStore,
  DynamoQuarantine,
  DynamoRunStore,
  documentClient,
} from '../adapters/dynamo';
import { DynamoSegmentMembers } from '../adapters/dynamo/segment-members';
import { EventBridgePublisher } from '../adapters/eventbridge-publisher';
import { SageMakerEmbedder } from '../adapters/sagemaker-embedder';
import type { Settings } from '../config/settings';
import { featureSettingsOf } from '../customer/update';

/** Every store on the Shoal table: the customer (profiles and event log), the model, the runs. */
export function tableAdapters(client: DynamoDBClient, tableName: string, settings: Settings) {
  const doc = documentClient(client);
  return {
    eventLog: new DynamoEventLog(doc, tableName),
    profiles: new DynamoProfileStore(doc, tableName, featureSettingsOf(settings)),
    models: new DynamoModelStore(doc, tableName),
    runs: new DynamoRunStore(doc, tableName),
  };
}

/** The quarantine, in its own table (it holds raw payloads that only ingest and the operator may read). */
export function quarantineAdapter(client: DynamoDBClient, tableName: string, settings: Settings): DynamoQuarantine {
  return new DynamoQuarantine(documentClient(client), tableName, settings.retention.quarantineDays);
}

export function busPublisher(client: EventBridgeClient, eventBusName: string): EventBridgePublisher {
  return new EventBridgePublisher({ client, eventBusName });
}

export function embedderOf(client: SageMakerRuntimeClient, settings: Settings): SageMakerEmbedder {
  return new SageMakerEmbedder({ ...settings.embedding, client });
}

/** The query API's reads: profiles, the model and the audience pages of the bySegment index. */
export function queryAdapters(client: DynamoDBClient, tableName: string, settings: Settings) {
  const doc = documentClient(client);
  return {
    profiles: new DynamoProfileStore(doc, tableName, featureSettingsOf(settings)),
    models: new DynamoModelStore(doc, tableName),
    members: new DynamoSegmentMembers(doc, tableName),
  };
}
