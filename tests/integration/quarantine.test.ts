import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  DynamoQuarantine,
  QUARANTINE_BOUNDS,
  boundRejection,
  truncateUtf8,
} from '../../shared/adapters/dynamo/quarantine';
import { documentClient } from '../../shared/adapters/dynamo';
import { validateInbound } from '../../shared/contracts/validate';
import type { QuarantineEntry } from '../../shared/ports/stores';
import { startLocalDynamo, type LocalDynamo } from '../../local/dynamodb';
import { envelope, makeDetail } from '../support/factories';

const now = new Date('2026-11-10T12:00:00Z');
let dynamo: LocalDynamo;
let quarantine: DynamoQuarantine;

beforeAll(async () => {
  dynamo = await startLocalDynamo({ tableName: 'quarantine-test' });
  quarantine = new DynamoQuarantine(documentClient(dynamo.client), dynamo.quarantineTableName, 30);
});
afterAll(async () => dynamo.close());

/** A rejected record as the ingest path builds it: the real validator's rejection, the raw body. */
function reject(messageId: string, body: string, receivedAt = now.toISOString()): QuarantineEntry {
  const result = validateInbound(body, new Date(receivedAt));
  if (result.ok) throw new Error('expected a rejection');
  return {
    messageId,
    receivedAt,
    customerId: result.rejection.customerId ?? null,
    rejection: result.rejection,
    raw: body,
  };
}

/** Issue #9 case C10: an order with 500 invalid items and 150 KB of padding (~200 KB, over 400 KB as issues grow). */
function oversizedOrder(customerId: string, paddingKb = 150): string {
  const detail = {
    ...makeDetail('order.placed', { customerId, eventId: 'c10' }),
    items: Array.from({ length: 500 }, (_, i) => ({
      sku: `S${i}`,
      title: 't',
      category: 'c',
      price: -1,
      quantity: -1,
    })),
    padding: 'x'.repeat(paddingKb * 1024),
  };
  return envelope('order.placed', detail);
}

describe('quarantine entries are bounded', () => {
  it('stores the C10 reject (500 invalid items + 150 KB padding) cut to 16 KiB, with its length and SHA-256', async () => {
    // With its padding the detail is over the 128 KiB cap: too_large, before any schema issue is collected.
    expect(reject('m-c10-big', oversizedOrder('cust-c10')).rejection.reason).toBe('too_large');
    // Without it, 500 invalid items give a schema violation with over a thousand issues, and a 40 KB body.
    const body = oversizedOrder('cust-c10', 0);
    const entry = reject('m-c10', body);
    expect(entry.rejection.reason).toBe('schema_violation');
    expect(entry.rejection.issues.length).toBeGreaterThan(QUARANTINE_BOUNDS.maxIssues);

    const { failed } = await quarantine.put([entry]);
    const [stored] = (await quarantine.list('2026-11-10')).filter((e) => e.messageId === 'm-c10');

    expect(failed).toEqual([]);
    expect(Buffer.byteLength(stored!.raw, 'utf8')).toBe(QUARANTINE_BOUNDS.rawMaxBytes);
    expect(body.startsWith(stored!.raw)).toBe(true);
    expect(stored!.rawInfo).toEqual({
      bytes: Buffer.byteLength(body, 'utf8'),
      sha256: createHash('sha256').update(body).digest('hex'),
      truncated: true,
    });
    expect(stored!.rejection.issues).toHaveLength(QUARANTINE_BOUNDS.maxIssues);
    expect((stored!.rejection as { issueCount?: number }).issueCount).toBe(entry.rejection.issues.length);
    expect(stored!.customerId).toBe('cust-c10');
  });

  it('keeps a small raw body whole', async () => {
    const body = envelope('order.created', makeDetail('order.placed', { customerId: 'cust-small' }));
    await quarantine.put([reject('m-small', body)]);
    const stored = (await quarantine.list('2026-11-10')).find((e) => e.messageId === 'm-small');
    expect(stored?.raw).toBe(body);
    expect(stored?.rawInfo?.truncated).toBe(false);
    expect(stored?.rejection.reason).toBe('unknown_detail_type');
  });

  it('never fails another entry: one unstorable entry is reported by message id, its neighbours are stored', async () => {
    const good = reject('m-good', envelope('Order.Placed', makeDetail('order.placed', { customerId: 'cust-n' })));
    const bad: QuarantineEntry = { ...good, messageId: 'm-bad', receivedAt: 'not a date' };
    const { failed } = await quarantine.put([bad, good, reject('m-good-2', '{not json', now.toISOString())]);
    const ids = (await quarantine.list('2026-11-10')).map((e) => e.messageId);
    expect(failed).toEqual(['m-bad']);
    expect(ids).toEqual(expect.arrayContaining(['m-good', 'm-good-2']));
  });
});

describe('erasure finds quarantine entries by customer', () => {
  it("deletes exactly the customer's entries, across days and reasons, and counts them", async () => {
    const erased = 'cust-erased';
    const entries = [
      // a schema violation and an unknown type, both carrying personal data in the raw body, on two days
      reject(
        'e-1',
        envelope('order.placed', {
          ...makeDetail('order.placed', { customerId: erased }),
          total: -5,
          email: 'a@b.example',
        }),
      ),
      reject(
        'e-2',
        envelope('order.created', { ...makeDetail('order.placed', { customerId: erased }), email: 'a@b.example' }),
        '2026-11-11T08:00:00.000Z',
      ),
      reject('k-1', envelope('order.created', makeDetail('order.placed', { customerId: 'cust-kept' }))),
      reject('k-2', '{"detail-type": 1}'), // no customer known: not in the index
    ];
    expect(entries.map((e) => e.customerId)).toEqual([erased, erased, 'cust-kept', null]);
    expect((await quarantine.put(entries)).failed).toEqual([]);

    const deleted = await quarantine.eraseCustomer(erased);
    const left = [...(await quarantine.list('2026-11-10')), ...(await quarantine.list('2026-11-11'))];

    expect(deleted).toBe(2);
    expect(left.filter((e) => e.customerId === erased || e.raw.includes(erased))).toEqual([]);
    expect(left.map((e) => e.messageId)).toEqual(expect.arrayContaining(['k-1', 'k-2']));
    expect(await quarantine.eraseCustomer(erased)).toBe(0);
  });
});

describe('fuzz: put never throws and stores every well-dated reject', () => {
  it('arbitrary bodies (any Unicode, up to ~400 KB) and issue lists (up to 600) are all stored and read back', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.integer({ min: 0, max: 1_400 }),
        fc.integer({ min: 0, max: 600 }),
        fc.option(fc.string({ minLength: 1, maxLength: 128 }), { nil: undefined }),
        async (chunk, repeat, issueCount, customerId) => {
          const raw = chunk.repeat(repeat);
          const messageId = `fz-${++n}`;
          const entry: QuarantineEntry = {
            messageId,
            receivedAt: '2026-11-12T00:00:00.000Z',
            customerId: customerId ?? null,
            rejection: {
              reason: 'schema_violation',
              ...(customerId ? { customerId } : {}),
              issues: Array.from({ length: issueCount }, (_, i) => ({ path: `items.${i}`, code: 'c', message: chunk })),
            },
            raw,
          };
          const { failed } = await quarantine.put([entry]);
          const back = (await quarantine.list('2026-11-12')).find((e) => e.messageId === messageId);
          expect(failed).toEqual([]);
          expect(back?.rawInfo?.sha256).toBe(createHash('sha256').update(raw).digest('hex'));
          expect(raw.startsWith(back!.raw)).toBe(true);
          expect(back!.rejection.issues.length).toBe(Math.min(issueCount, QUARANTINE_BOUNDS.maxIssues));
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('bounds (pure)', () => {
  it('truncateUtf8 never splits a character and never exceeds the byte budget', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.integer({ min: 0, max: 300 }), (s, max) => {
        const cut = truncateUtf8(s, max);
        const bytes = Buffer.byteLength(cut.text, 'utf8');
        if (cut.truncated) expect(bytes).toBeLessThanOrEqual(max);
        else expect(cut.text).toBe(s);
        expect(s.startsWith(cut.text)).toBe(true);
        expect(cut.bytes).toBe(Buffer.byteLength(s, 'utf8'));
        expect(cut.truncated).toBe(cut.bytes > max);
        // The cut loses less than one character (4 bytes at most).
        if (cut.truncated) expect(max - bytes).toBeLessThan(4);
      }),
    );
  });

  it('boundRejection caps issues and their text, keeping the total', () => {
    const long = 'y'.repeat(1_000);
    const bounded = boundRejection({
      reason: 'schema_violation',
      issues: Array.from({ length: 64 }, () => ({ path: long, code: 'custom', message: long })),
    });
    expect(bounded.issues).toHaveLength(QUARANTINE_BOUNDS.maxIssues);
    expect(bounded.issueCount).toBe(64);
    expect(bounded.issues[0]!.message).toHaveLength(QUARANTINE_BOUNDS.issueTextLength);
  });
});
