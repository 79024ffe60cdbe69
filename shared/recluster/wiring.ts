import type { S3Client } from '@aws-sdk/client-s3';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { z } from 'zod';
import { S3ObjectStore } from '../adapters/s3-object-store';
import { SageMakerNarrator } from '../adapters/sagemaker-narrator';
import type { NarrationSettings } from '../config/settings';
import type { reclusterEnvSchema } from '../config/env';
import type { AwsClients } from '../runtime/clients';
import type { Telemetry } from '../runtime/powertools';
import { busPublisher, tableAdapters } from '../runtime/wiring';
import type { ReclusterDeps } from './deps';

/** The AWS adapters of a recluster Lambda, built once per cold start from its parsed environment. */
export function awsReclusterDeps(
  env: z.output<typeof reclusterEnvSchema>,
  clients: Pick<AwsClients, 'dynamodb' | 'eventbridge'> & Partial<Pick<AwsClients, 'sagemaker'>> & { s3: S3Client },
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
    narrator:
      settings.narration && clients.sagemaker
        ? narratorFor(settings.narration, telemetry.tracer.captureAWSv3Client(clients.sagemaker))
        : null,
    clock: () => new Date(),
    metrics: telemetry.metricsSink,
    log: telemetry.logSink,
  };
}

/** The catalogue narrator of a stage's narration settings (the Lambdas and the local stack both use this). */
export function narratorFor(settings: NarrationSettings, client: SageMakerRuntimeClient): SageMakerNarrator {
  return new SageMakerNarrator({ ...settings, client });
}
