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
  /** `detail` nests deeper than `LIMITS.maxDetailDepth`. */
  'too_deep',
  /** `detail` serialises to more than `LIMITS.maxDetailBytes` UTF-8 bytes. */
  'too_large',
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
 * Depth of the deepest array or object under `root` (a scalar is depth 0, `{}` and `[]` are depth 1), or
 * `Infinity` as soon as it passes `limit`. Iterative with an explicit stack, so a 5,000-deep payload cannot
 * overflow the call stack; it stops at the limit, so a cyclic object cannot loop.
 */
export function nestingDepth(root: unknown, limit: number): number {
  let deepest = 0;
  const stack: { value: unknown; depth: number }[] = [{ value: root, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop() as { value: unknown; depth: number };
    if (typeof value !== 'object' || value === null) continue;
    const here = depth + 1;
    if (here > limit) return Infinity;
    if (here > deepest) deepest = here;
    const children = Array.isArray(value) ? value : Object.values(value);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: here });
    }
  }
  return deepest;
}

const utf8 = new TextEncoder();

/** UTF-8 length of `value`'s JSON, or `Infinity` when it cannot be serialised (call only after the depth check). */
function serialisedBytes(value: unknown): number {
  try {
    return utf8.encode(JSON.stringify(value) ?? '').byteLength;
  } catch {
    return Infinity;
  }
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
  const known = isInboundDetailType(detailType) ? { detailType } : { detailType: detailType.slice(0, 100) };
  // Bounds first: everything after this (zod, the store, the publisher) may recurse over the detail.
  if (nestingDepth(detail, LIMITS.maxDetailDepth) > LIMITS.maxDetailDepth) {
    return {
      ok: false,
      rejection: {
        reason: 'too_deep',
        ...known,
        ...idsOf(detail),
        issues: [{ path: 'detail', code: 'too_deep', message: `nested deeper than ${LIMITS.maxDetailDepth} levels` }],
      },
    };
  }
  const bytes = serialisedBytes(detail);
  if (bytes > LIMITS.maxDetailBytes) {
    return {
      ok: false,
      rejection: {
        reason: 'too_large',
        ...known,
        ...idsOf(detail),
        issues: [
          {
            path: 'detail',
            code: 'too_large',
            message: Number.isFinite(bytes)
              ? `${bytes} bytes of JSON > ${LIMITS.maxDetailBytes}`
              : 'cannot be serialised as JSON',
          },
        ],
      },
    };
  }
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
