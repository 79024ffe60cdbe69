/** In-memory ports for the recluster services' unit tests. */
import type { ModelStore, OutboxEntry, PublishResult, Publisher } from '../../../shared/ports/stores';
import { MemoryProfileStore } from '../../support/memory-customer';

export { MemoryProfileStore };
import { noLogs, TallyMetrics } from '../../../shared/ports/telemetry';
import type { ReclusterDeps } from '../../../shared/recluster/deps';
import { MemoryRunStore } from '../../../shared/recluster/runs';
import type { SegmentationModel } from '../../../shared/segmentation/model';
import { LocalObjectStore } from '../../../local/object-store';
import { testSettings } from '../../support/settings';

export class MemoryModelStore implements ModelStore {
  readonly versions = new Map<number, SegmentationModel>();
  active: number | null = null;
  async getActive() {
    return this.active === null ? null : (this.versions.get(this.active) ?? null);
  }
  async getVersion(version: number) {
    return this.versions.get(version) ?? null;
  }
  async putVersion(model: SegmentationModel) {
    const existing = this.versions.get(model.version);
    if (existing && existing.runId !== model.runId)
      throw new Error(`model version ${model.version} belongs to another run`);
    this.versions.set(model.version, structuredClone(model));
  }
  async activate(version: number, expected: number | null) {
    if (this.active !== expected && this.active !== version) return false;
    this.active = version;
    return true;
  }
  async latestVersionNumber() {
    return Math.max(0, ...this.versions.keys());
  }
}

export class CapturingPublisher implements Publisher {
  readonly sent: OutboxEntry[] = [];
  failNext = 0;
  async publish(events: readonly OutboxEntry[]): Promise<PublishResult> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      return { published: 0, failed: events.map((e) => ({ dedupeKey: e.dedupeKey, errorCode: 'InternalFailure' })) };
    }
    this.sent.push(...events);
    return { published: events.length, failed: [] };
  }
  of(detailType: string) {
    return this.sent.filter((e) => e.event.detailType === detailType).map((e) => e.event.detail);
  }
}

export function memoryDeps(now = new Date('2026-11-11T03:05:00Z')) {
  const deps = {
    profiles: new MemoryProfileStore(),
    models: new MemoryModelStore(),
    runs: new MemoryRunStore(),
    objects: new LocalObjectStore(),
    publisher: new CapturingPublisher(),
    settings: testSettings(),
    clock: () => now,
    metrics: new TallyMetrics(),
    log: noLogs,
  } satisfies ReclusterDeps;
  return deps;
}
