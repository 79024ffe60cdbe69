import { S3Client } from '@aws-sdk/client-s3';
import { parseEnv, reclusterEnvSchema } from '../../../shared/config/env';
import { awsReclusterDeps } from '../../../shared/recluster/wiring';
import { createAwsClients } from '../../../shared/runtime/clients';
import { createTelemetry } from '../../../shared/runtime/powertools';
import { makeHandler } from './app';

// Composition point: everything below runs once per cold start.
const env = parseEnv(reclusterEnvSchema);
const telemetry = createTelemetry('recluster-mark-failed');
const clients = { ...createAwsClients(), s3: new S3Client({}) };

export const handler = makeHandler(awsReclusterDeps(env, clients, telemetry), telemetry);
