import type { RejectionReason } from '../../shared/contracts/validate';

/** What the simulator planted in a delivery, for tests and reports. Never written to NDJSON. */
export interface DeliveryMeta {
  /** The delivery is deliberately invalid; `validateInbound` at `arrivalAt` must reject it with this reason. */
  malformed?: RejectionReason;
  /** A second delivery of an event already delivered (same detail, same eventId). */
  duplicate?: true;
  /** Delivered hours to days after `occurredAt`. */
  late?: true;
}

/**
 * One delivery in arrival order: the PutEvents entry as the storefront would send it.
 * NDJSON replay line: `JSON.stringify({'detail-type': detailType, detail})`.
 */
export interface Delivery {
  arrivalAt: Date;
  detailType: string;
  detail: unknown;
  /** Set by the simulator only; replay readers never set it. */
  meta?: DeliveryMeta;
}
