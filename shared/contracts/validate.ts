import { z } from 'zod';
import { INBOUND_SCHEMAS, isInboundDetailType, type InboundEvent } from './inbound';
import { LIMITS } from './limits';

/** Machine-readable reasons for rejecting an inbound record. Stable: dashboards and quarantine queries key on them. */
export const REJECTION_REASONS = [
  'invalid_json',
  'not_an_event',
  'unknown_detail_type',
  'schema_violation',
  'occurred_in_future',
  'occurred_too_early',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export interface ValidationIssue {
  path: string;
  code: string;
  message: string;
}

export interface Rejection {
  reason: RejectionReason;
  detailType?: string;
  eventId?: string;
  customerId?: string;
  issues: ValidationIssue[];
}

export type ValidationResult = { ok: true; event: InboundEvent } | { ok: false; rejection: Rejection };

const envelopeSchema = z.looseObject({
  'detail-type': z.string(),
  detail: z.record(z.string(), z.unknown()),
});

function idsOf(detail: unknown): Pick<Rejection, 'eventId' | 'customerId'> {
  if (typeof detail !== 'object' || detail === null) return {};
  const d = detail as Record<string, unknown>;
  const pick = (v: unknown) => (typeof v === 'string' && v.length <= LIMITS.idLength ? v : undefined);
  return { eventId: pick(d.eventId), customerId: pick(d.customerId) };
}

function toIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((i) => ({ path: i.path.join('.'), code: i.code, message: i.message }));
}

/**
 * Validates one EventBridge envelope (as delivered in an SQS body, string or parsed).
 * Pure: `now` is the arrival time, passed in.
 */
export function validateInbound(body: unknown, now: Date): ValidationResult {
  let raw = body;
  if (typeof body === 'string') {
    try {
      raw = JSON.parse(body);
    } catch (err) {
      return {
        ok: false,
        rejection: {
          reason: 'invalid_json',
          issues: [{ path: '', code: 'invalid_json', message: (err as Error).message }],
        },
      };
    }
  }
  const envelope = envelopeSchema.safeParse(raw);
  if (!envelope.success) {
    return { ok: false, rejection: { reason: 'not_an_event', issues: toIssues(envelope.error) } };
  }
  const detailType = envelope.data['detail-type'];
  const detail = envelope.data.detail;
  if (!isInboundDetailType(detailType)) {
    return {
      ok: false,
      rejection: {
        reason: 'unknown_detail_type',
        detailType: detailType.slice(0, 100),
        ...idsOf(detail),
        issues: [{ path: 'detail-type', code: 'unknown_detail_type', message: 'not an inbound detail-type' }],
      },
    };
  }
  const parsed = INBOUND_SCHEMAS[detailType].safeParse(detail);
  if (!parsed.success) {
    return {
      ok: false,
      rejection: { reason: 'schema_violation', detailType, ...idsOf(detail), issues: toIssues(parsed.error) },
    };
  }
  const occurred = Date.parse(parsed.data.occurredAt);
  if (occurred > now.getTime() + LIMITS.maxFutureSkewMs) {
    return {
      ok: false,
      rejection: {
        reason: 'occurred_in_future',
        detailType,
        ...idsOf(detail),
        issues: [{ path: 'occurredAt', code: 'occurred_in_future', message: 'more than 24h after arrival' }],
      },
    };
  }
  if (occurred < Date.parse(LIMITS.minOccurredAt)) {
    return {
      ok: false,
      rejection: {
        reason: 'occurred_too_early',
        detailType,
        ...idsOf(detail),
        issues: [{ path: 'occurredAt', code: 'occurred_too_early', message: `before ${LIMITS.minOccurredAt}` }],
      },
    };
  }
  return { ok: true, event: { type: detailType, detail: parsed.data } as InboundEvent };
}
