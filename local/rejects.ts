/**
 * `out/rejects.ndjson`: one line per rejected input, with its reason and the zod issue paths, and never the raw
 * payload (it may hold personal data): a replay line the reader could not use (by line number), or an event that
 * validation quarantined (by event id and detail-type, when the rejection could read them).
 */
import { writeFileSync } from 'node:fs';
import { z } from 'zod';

export const rejectLineSchema = z.object({
  /** `reader`: the replay reader refused the line; `validation`: the event was quarantined by `validateInbound`. */
  stage: z.enum(['reader', 'validation']),
  reason: z.string(),
  /** 1-based line of the replayed file (reader rejections). */
  line: z.number().int().positive().optional(),
  eventId: z.string().optional(),
  detailType: z.string().optional(),
  /** The zod issue paths (`items.0.quantity`), capped like the quarantine's issue list. */
  paths: z.array(z.string()),
});
export type RejectLine = z.infer<typeof rejectLineSchema>;

/** A quarantine item's stored rejection (JSON), as a reject line: ids and paths only. */
export function rejectOfQuarantined(reason: string, rejectionJson: unknown): RejectLine {
  let rejection: { detailType?: unknown; eventId?: unknown; issues?: unknown } = {};
  try {
    if (typeof rejectionJson === 'string') rejection = JSON.parse(rejectionJson) as typeof rejection;
  } catch {
    // a stored rejection that is not JSON still yields its reason
  }
  const issues = Array.isArray(rejection.issues) ? rejection.issues : [];
  return rejectLineSchema.parse({
    stage: 'validation',
    reason,
    ...(typeof rejection.eventId === 'string' ? { eventId: rejection.eventId } : {}),
    ...(typeof rejection.detailType === 'string' ? { detailType: rejection.detailType } : {}),
    paths: issues.map((i: { path?: unknown }) => (typeof i?.path === 'string' ? i.path : '')).filter(Boolean),
  });
}

export function writeRejects(file: string, rejects: readonly RejectLine[]): void {
  writeFileSync(file, rejects.map((r) => JSON.stringify(r)).join('\n') + (rejects.length ? '\n' : ''));
}
