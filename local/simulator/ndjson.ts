/**
 * Recording deliveries as NDJSON (the `--record FILE` format): one `{"detail-type": …, "detail": …}` object per
 * line, in arrival order. `local/replay` reads it back. Files ending in `.gz` are gzip-compressed.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Writable } from 'node:stream';
import type { Delivery } from './types';

export interface NdjsonOptions {
  /**
   * Also write EventBridge's `time` field (the arrival time, ISO) on each line, so a replay reproduces late and
   * future-dated deliveries exactly instead of arriving every event at its `occurredAt`. Default false.
   */
  arrivalTime?: boolean;
}

/** One NDJSON line (without the newline). `meta` is never written. */
export function toNdjsonLine(delivery: Delivery, opts: NdjsonOptions = {}): string {
  const line: Record<string, unknown> = { 'detail-type': delivery.detailType, detail: delivery.detail };
  if (opts.arrivalTime) line.time = delivery.arrivalAt.toISOString();
  return JSON.stringify(line);
}

const CHUNK_CHARS = 64 * 1024;

/** Writes deliveries as NDJSON lines to `stream`, honouring backpressure. Does not end the stream. Returns the line count. */
export async function writeNdjson(
  deliveries: Iterable<Delivery> | AsyncIterable<Delivery>,
  stream: Writable,
  opts: NdjsonOptions = {},
): Promise<number> {
  let buffer = '';
  let count = 0;
  const flush = async (): Promise<void> => {
    if (buffer.length === 0) return;
    const chunk = buffer;
    buffer = '';
    if (!stream.write(chunk)) await once(stream, 'drain');
  };
  for await (const delivery of deliveries) {
    buffer += `${toNdjsonLine(delivery, opts)}\n`;
    count++;
    if (buffer.length >= CHUNK_CHARS) await flush();
  }
  await flush();
  return count;
}

export interface NdjsonRecorder {
  /** Appends deliveries (e.g. one simulated day) to the file. */
  write(deliveries: Iterable<Delivery> | AsyncIterable<Delivery>): Promise<void>;
  /** Flushes and closes the file. */
  close(): Promise<void>;
  /** Lines written so far. */
  readonly lines: number;
}

/** Opens `path` for recording (gzip when it ends in `.gz`). Call `close()` when done. */
export function createNdjsonRecorder(path: string, opts: NdjsonOptions = {}): NdjsonRecorder {
  const file = createWriteStream(path);
  const gzip = path.endsWith('.gz') ? createGzip() : undefined;
  if (gzip) gzip.pipe(file);
  const sink: Writable = gzip ?? file;
  let lines = 0;
  return {
    async write(deliveries) {
      lines += await writeNdjson(deliveries, sink, opts);
    },
    async close() {
      sink.end();
      await finished(file);
    },
    get lines() {
      return lines;
    },
  };
}
