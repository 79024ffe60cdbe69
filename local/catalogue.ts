import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { Settings } from '../shared/config/settings';
import type { Narrator } from '../shared/ports/narrator';
import { narratorFor } from '../shared/recluster/wiring';
import type { SegmentationModel } from '../shared/segmentation/model';
import { startLocalLlmServer, type LocalLlmServer } from './llm-server';

/** The local run's narrator: the real SageMaker adapter pointed at the local LLM stand-in, or none. */
export interface LocalNarration {
  narrator: Narrator | null;
  server: LocalLlmServer | null;
  close(): Promise<void>;
}

/**
 * Starts the local LLM stand-in (a template, not a model: see local/llm-server.ts) when the settings configure
 * narration, and returns the production `SageMakerNarrator` pointed at it. Without `settings.narration`, no server
 * and a null narrator: the rules narrate.
 */
export async function startLocalNarration(settings: Settings): Promise<LocalNarration> {
  if (!settings.narration) return { narrator: null, server: null, close: async () => undefined };
  const server = await startLocalLlmServer();
  const client = new SageMakerRuntimeClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  return {
    narrator: narratorFor(settings.narration, client),
    server,
    close: async () => {
      client.destroy();
      await server.close();
    },
  };
}

/** The file a local run writes the catalogue to. */
export const SEGMENTS_FILE = 'segments.json';

/**
 * Writes `<outDir>/segments.json`: the model version, the catalogue (one entry per segment, as in
 * `segmentation.model.published`) and the renamed segments. Returns the path.
 */
export function writeSegmentsJson(outDir: string, model: SegmentationModel | null): string {
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, SEGMENTS_FILE);
  const body = {
    modelVersion: model?.version ?? null,
    k: model?.k ?? 0,
    segments: model?.catalogue ?? [],
    renamedSegments: model?.renamedSegments ?? [],
  };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  return file;
}
