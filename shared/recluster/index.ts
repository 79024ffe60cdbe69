/** Nightly re-clustering: the orchestration services behind each Step Functions task, over ports. */
export type { ReclusterDeps } from './deps';
export { planShards, planInputSchema, resolveRunId, type PlanInput } from './plan';
export { scanShard } from './scan';
export { fitModel, mergeShardSamples, type ModelArtifact } from './fit-model';
export { assignShard, assignCustomer, needsWrite } from './assign';
export { publishModel, ActiveModelChangedError, type PublishOutput } from './publish';
export { markFailed, describeCause, safeRunId, type MarkFailedOutput } from './mark-failed';
export { evaluationTime } from './as-of';
export { runObjectKeys, readShardSample, type ShardSampleFile } from './artifacts';
export { updateRun, newRun, MemoryRunStore } from './runs';
export { buildRunReport, renderRunReportHtml, type RunReport } from './report';
