import type { Settings } from '../config/settings';
import type { Narrator } from '../ports/narrator';
import type { ModelStore, ObjectStore, ProfileStore, Publisher, RunStore } from '../ports/stores';
import type { LogSink, MetricsSink } from '../ports/telemetry';

/** What every nightly task needs. The Lambdas wire AWS adapters; the local runner wires the embedded stand-ins. */
export interface ReclusterDeps {
  profiles: ProfileStore;
  models: ModelStore;
  runs: RunStore;
  objects: ObjectStore;
  publisher: Publisher;
  settings: Settings;
  clock: () => Date;
  metrics: MetricsSink;
  log: LogSink;
  /** The hosted LLM that narrates the segment catalogue; absent or null: the rules narrate. */
  narrator?: Narrator | null;
  /** Customers processed in parallel by AssignShard (default 16). */
  concurrency?: number;
}
