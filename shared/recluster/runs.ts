import type { RunRecord, RunStore } from '../ports/stores';

export const MAX_RUN_WRITE_ATTEMPTS = 8;

/** A fresh `RUN#<runId>` record (rev 0: `updateRun` gives it rev 1 when it writes it). */
export function newRun(runId: string, now: string): RunRecord {
  return {
    runId,
    rev: 0,
    status: 'running',
    asOf: null,
    startedAt: now,
    updatedAt: now,
    attempts: 0,
    shardCount: null,
    modelVersion: null,
    fit: null,
    published: null,
    failure: null,
  };
}

export interface RunUpdate {
  before: RunRecord | null;
  after: RunRecord | null;
  /** Whether this call wrote a new revision. */
  written: boolean;
}

/**
 * Read-modify-write of a run record with a condition on its revision, retried on conflict. `change` gets the stored
 * record (null when absent) and returns the next one, or null to leave it as it is. Every run transition (start,
 * fit, publish, fail) goes through here, so concurrent task invocations of one run never lose each other's writes.
 */
export async function updateRun(
  runs: RunStore,
  runId: string,
  change: (current: RunRecord | null) => RunRecord | null,
): Promise<RunUpdate> {
  for (let attempt = 0; attempt < MAX_RUN_WRITE_ATTEMPTS; attempt++) {
    const before = await runs.get(runId);
    const next = change(before);
    if (next === null) return { before, after: before, written: false };
    const after: RunRecord = { ...next, runId, rev: (before?.rev ?? 0) + 1 };
    if ((await runs.put(after, before?.rev ?? null)) === 'written') return { before, after, written: true };
  }
  throw new Error(`run ${runId}: the run record kept changing under concurrent writes`);
}

/** An in-memory RunStore (unit tests, benchmarks). */
export class MemoryRunStore implements RunStore {
  private readonly records = new Map<string, RunRecord>();

  async get(runId: string): Promise<RunRecord | null> {
    const r = this.records.get(runId);
    return r ? structuredClone(r) : null;
  }

  async put(record: RunRecord, expectedRev: number | null): Promise<'written' | 'conflict'> {
    const current = this.records.get(record.runId);
    if (expectedRev === null ? current !== undefined : current?.rev !== expectedRev) return 'conflict';
    this.records.set(record.runId, structuredClone(record));
    return 'written';
  }
}
