export type { Delivery, DeliveryMeta } from './types';
export {
  simulateStore,
  DAY_MS,
  DEFAULT_START,
  type SimulateOptions,
  type SimulatedStore,
  type SimulatedDay,
  type CustomerTruth,
} from './simulate';
export {
  buildCatalogue,
  CATEGORY_NAMES,
  CATEGORY_SPECS,
  type Catalogue,
  type CategoryName,
  type CategorySpec,
  type Product,
} from './catalogue';
export {
  PERSONA_DEFINITIONS,
  type PersonaDefinition,
  type PersonaSpec,
  type PersonaRates,
  type Channel,
  type CustomerKind,
} from './personas';
export { writeNdjson, toNdjsonLine, createNdjsonRecorder, type NdjsonOptions, type NdjsonRecorder } from './ndjson';
