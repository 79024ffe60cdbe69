import fc from 'fast-check';
import { answerQuery, InvalidCursorError, type SegmentMembers } from '../../../shared/query/api';
import { problemSchema } from '../../../shared/contracts/query';
import { holdoutDraw } from '../../../shared/domain/holdout';
import { makeEvent } from '../../support/factories';
import { MemoryProfileStore, profileFromLog } from '../../support/memory-customer';
import { modelFromPrototypes, withLocalEmbeddings } from '../../support/model';
import { testSettings } from '../../support/settings';

const now = new Date('2026-11-10T12:00:00Z');
const settings = testSettings();
const model = modelFromPrototypes(
  [{ segmentId: 'seg-001', name: 'Buyers', events: [makeEvent('order.placed', { customerId: 'p' })] }],
  settings,
  now,
);
const profiles = new MemoryProfileStore();
const c1 = profileFromLog(
  'c1',
  withLocalEmbeddings([makeEvent('order.placed', { customerId: 'c1' })], settings.embedding.dimension),
  now,
  settings,
  model,
);
profiles.items.set('c1', c1);
/** The audience port over the memory store: a cursor is the index of the next member, as a decimal string. */
const members: SegmentMembers = {
  async page(segmentId, limit, cursor) {
    const all = [...profiles.items.values()]
      .filter((p) => p.assignment?.segmentId === segmentId)
      .map((p) => p.customerId);
    const start = cursor === null ? 0 : Number(cursor);
    if (!Number.isInteger(start) || start < 0) throw new InvalidCursorError();
    const next = start + limit;
    return { customerIds: all.slice(start, next), nextCursor: next < all.length ? String(next) : null };
  },
};
const deps = { profiles, models: { getActive: async () => model }, members, settings, clock: () => now };

const segment = fc.oneof(
  fc.constantFrom(
    'customers',
    'segments',
    'models',
    'active',
    'members',
    'recommendations',
    'c1',
    'seg-001',
    '',
    '%',
    '%zz',
    '..',
  ),
  fc.string({ maxLength: 200 }),
);
const path = fc.array(segment, { maxLength: 5 }).map((parts) => `/${parts.join('/')}`);
const query = fc.dictionary(fc.constantFrom('limit', 'cursor', 'format', 'x'), fc.string({ maxLength: 50 }));

describe('the query API never crashes on any path or query (fuzz)', () => {
  test('every answer is a 200 JSON/CSV or a problem+json with a known status', async () => {
    await fc.assert(
      fc.asyncProperty(path, query, fc.constantFrom('GET', 'POST', 'DELETE'), async (p, q, method) => {
        const res = await answerQuery(deps, { method, path: p, query: q });
        expect([200, 400, 404, 405]).toContain(res.status);
        if (res.status !== 200) {
          expect(res.headers['content-type']).toBe('application/problem+json');
          expect(problemSchema.parse(JSON.parse(res.body)).status).toBe(res.status);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('the customer answer says whether it is in its segment’s control group', async () => {
    const held = await answerQuery(
      { ...deps, settings: { ...settings, holdout: { share: 0.5, salt: 'a' } } },
      { method: 'GET', path: '/customers/c1', query: {} },
    );
    const none = await answerQuery(deps, { method: 'GET', path: '/customers/c1', query: {} });
    expect((JSON.parse(held.body) as { holdout: boolean }).holdout).toBe(holdoutDraw('c1', 'seg-001', 'a') < 0.5);
    expect((JSON.parse(none.body) as { holdout: boolean }).holdout).toBe(false);
  });
});
