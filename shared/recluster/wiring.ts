import type { S3Client } from '@aws-sdk/client-s3';
import type { z } from 'zod';
import { S3ObjectStore } from '../adapters/s3-object-store';
import type { reclusterEnvSchema } from '../config/env';
import type { AwsClients } from '../runtime/clients';
import type { Telemetry } from '../runtime/powertools';
import { busPublisher, tableAdapters } from '../runtime/wiring';
import type { ReclusterDeps } from './deps';

/** The AWS adapters of a recluster Lambda, built once per cold start from its parsed environment. */
export function awsReclusterDeps(
  env: z.output<typeof reclusterEnvSchema>,
  clients: Pick<AwsClients, 'dynamodb' | 'eventbridge'> & { s3: S3Client },
  telemetry: Telemetry,
): ReclusterDeps {
  const settings = env.SHOAL_SETTINGS;
  const table = tableAdapters(telemetry.tracer.captureAWSv3Client(clients.dynamodb), env.TABLE_NAME, settings);
  return {
    profiles: table.profiles,
    models: table.models,
    runs: table.runs,
    objects: new S3ObjectStore({ client: telemetry.tracer.captureAWSv3Client(clients.s3), bucket: env.BUCKET_NAME }),
    publisher: busPublisher(telemetry.tracer.captureAWSv3Client(clients.eventbridge), env.EVENT_BUS_NAME),
    settings,
    clock: () => new Date(),
    metrics: telemetry.metricsSink,
    log: telemetry.logSink,
  };
}
