import type { SegmentationModel } from '../segmentation/model';
import type { ModelStore } from './stores';

/**
 * Read-through cache of the active model for the real-time path. A profile written by a newer model
 * version (the nightly run assigns before it flips ACTIVE) makes the caller ask for that version directly.
 */
export class ModelCache {
  private active: { model: SegmentationModel | null; loadedAt: number } | null = null;
  private readonly versions = new Map<number, SegmentationModel>();

  constructor(
    private readonly store: ModelStore,
    private readonly ttlMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Forget the cached pointer (after a local run flips ACTIVE). */
  invalidate(): void {
    this.active = null;
  }

  async getActive(): Promise<SegmentationModel | null> {
    if (!this.active || this.now() - this.active.loadedAt > this.ttlMs) {
      const model = await this.store.getActive();
      this.active = { model, loadedAt: this.now() };
      if (model) this.versions.set(model.version, model);
    }
    return this.active.model;
  }

  /** The model to place a customer with: the active one, or a newer version the profile already uses. */
  async forProfile(profileModelVersion: number | undefined): Promise<SegmentationModel | null> {
    const active = await this.getActive();
    if (profileModelVersion === undefined || (active && active.version >= profileModelVersion)) return active;
    const cached = this.versions.get(profileModelVersion);
    if (cached) return cached;
    const model = await this.store.getVersion(profileModelVersion);
    if (model) this.versions.set(model.version, model);
    this.active = null; // the pointer has probably moved too
    return model ?? active;
  }
}
