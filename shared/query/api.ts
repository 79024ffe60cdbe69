/**
 * The query API, transport-free: a request (method, path, query) in, a response (status, headers, body) out. The
 * Lambda (functions/query) and the local server (`npm start -- --serve`) translate their own shapes to these, so both
 * answer with the same code. Every body is parsed with its route's zod schema before it leaves (shared/contracts/query.ts).
 */
import type { z } from 'zod';
import type { Settings } from '../config/settings';
import { productsNotBought } from '../catalogue/build';
import { isTombstone, type CustomerProfile } from '../customer/profile';
import { isHeldOut } from '../domain/holdout';
import type { ProfileStore } from '../customer/store';
import type { ModelStore } from '../ports/stores';
import { featuresAsOf } from '../recluster/as-of';
import type { SegmentationModel } from '../segmentation/model';
import {
  activeModelResponseSchema,
  customerIdParamSchema,
  customerResponseSchema,
  membersQuerySchema,
  membersResponseSchema,
  recommendationsResponseSchema,
  segmentIdParamSchema,
  segmentResponseSchema,
  segmentsResponseSchema,
  type Member,
  type Problem,
} from '../contracts/query';
import { explainCustomer } from './why';

/** One page of a segment's audience from the bySegment index. `cursor` is opaque to callers. */
export interface MembersPage {
  customerIds: string[];
  nextCursor: string | null;
}

/** Thrown by a `SegmentMembers` adapter for a cursor it did not issue for this segment. */
export class InvalidCursorError extends Error {
  constructor(message = 'cursor is not one this API issued for this segment') {
    super(message);
    this.name = 'InvalidCursorError';
  }
}

/** The audience port: customer ids of a segment, a page at a time (key order of the index). */
export interface SegmentMembers {
  page(segmentId: string, limit: number, cursor: string | null): Promise<MembersPage>;
}

export interface QueryDeps {
  profiles: Pick<ProfileStore, 'get' | 'getMany'>;
  models: Pick<ModelStore, 'getActive'>;
  members: SegmentMembers;
  settings: Settings;
  clock: () => Date;
}

export interface QueryRequest {
  method: string;
  /** The path without a stage prefix, percent-encoded as received, e.g. `/customers/c%2F1`. */
  path: string;
  query: Record<string, string | undefined>;
}

export interface QueryResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const PROBLEM_BASE = 'urn:shoal:problem:';

function problem(
  status: number,
  type: string,
  title: string,
  detail: string,
  extra: Partial<Problem> = {},
): QueryResponse {
  const body: Problem = { type: `${PROBLEM_BASE}${type}`, title, status, detail, ...extra };
  return { status, headers: { 'content-type': 'application/problem+json' }, body: JSON.stringify(body) };
}

function json<S extends z.ZodType>(schema: S, value: z.input<S>): QueryResponse {
  return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(schema.parse(value)) };
}

type Route =
  | { name: 'customer'; id: string }
  | { name: 'recommendations'; id: string }
  | { name: 'segments' }
  | { name: 'segment'; id: string }
  | { name: 'members'; id: string }
  | { name: 'activeModel' };

/** Matches a path to a route (null: no such route). A path segment that is not valid percent-encoding is null too. */
export function matchRoute(path: string): Route | null {
  const parts = path.replace(/\/+$/, '').split('/').slice(1);
  let decoded: string[];
  try {
    decoded = parts.map((p) => decodeURIComponent(p));
  } catch {
    return null;
  }
  const [a, b, c, ...rest] = decoded;
  if (rest.length) return null;
  if (a === 'customers' && b !== undefined && c === undefined) return { name: 'customer', id: b };
  if (a === 'customers' && b !== undefined && c === 'recommendations') return { name: 'recommendations', id: b };
  if (a === 'segments' && b === undefined) return { name: 'segments' };
  if (a === 'segments' && b !== undefined && c === undefined) return { name: 'segment', id: b };
  if (a === 'segments' && b !== undefined && c === 'members') return { name: 'members', id: b };
  if (a === 'models' && b === 'active' && c === undefined) return { name: 'activeModel' };
  return null;
}

/**
 * Answers one request. Errors are problem+json (RFC 9457): 400 `bad-parameter` (with `invalidParams`), 404
 * `not-found` (unknown route, unknown or erased customer, unknown segment), 404 `no-model` (no active model yet),
 * 405 `method-not-allowed`. An adapter failure is not caught here: the caller returns 500 and logs it.
 */
export async function answerQuery(deps: QueryDeps, req: QueryRequest): Promise<QueryResponse> {
  const route = matchRoute(req.path);
  if (!route) return problem(404, 'not-found', 'Not found', `no route for ${req.path.slice(0, 200)}`);
  if (req.method !== 'GET') return problem(405, 'method-not-allowed', 'Method not allowed', 'only GET is served');
  if ('id' in route) {
    const schema =
      route.name === 'customer' || route.name === 'recommendations' ? customerIdParamSchema : segmentIdParamSchema;
    const parsed = schema.safeParse(route.id);
    if (!parsed.success) return badParams([{ name: 'id', reason: parsed.error.issues[0]?.message ?? 'invalid' }]);
  }
  switch (route.name) {
    case 'customer':
      return customer(deps, route.id);
    case 'recommendations':
      return recommendations(deps, route.id);
    case 'segments':
      return withModel(deps, (model) =>
        json(segmentsResponseSchema, {
          modelVersion: model.version,
          segments: model.segmentIds.map((segmentId, i) => {
            const p = model.profiles.find((x) => x.segmentId === segmentId);
            return { segmentId, name: model.names[i] ?? segmentId, size: p?.size ?? 0, share: p?.share ?? 0 };
          }),
        }),
      );
    case 'segment':
      return withModel(deps, (model) => {
        const i = model.segmentIds.indexOf(route.id);
        if (i < 0) return unknownSegment(route.id, model);
        return json(segmentResponseSchema, {
          modelVersion: model.version,
          segmentId: route.id,
          name: model.names[i] ?? route.id,
          profile: model.profiles.find((x) => x.segmentId === route.id) ?? null,
          catalogue: model.catalogue?.find((x) => x.segmentId === route.id) ?? null,
        });
      });
    case 'members':
      return members(deps, route.id, req.query);
    case 'activeModel':
      return withModel(deps, (model) =>
        json(activeModelResponseSchema, {
          modelVersion: model.version,
          runId: model.runId,
          k: model.k,
          quality: model.quality,
          publishedAt: model.createdAt,
          segmentIds: model.segmentIds,
        }),
      );
    default: {
      const never: never = route;
      return never;
    }
  }
}

function badParams(invalidParams: { name: string; reason: string }[]): QueryResponse {
  return problem(400, 'bad-parameter', 'Bad parameter', invalidParams.map((p) => `${p.name}: ${p.reason}`).join('; '), {
    invalidParams,
  });
}

function unknownSegment(segmentId: string, model: SegmentationModel): QueryResponse {
  return problem(404, 'not-found', 'Unknown segment', `segment ${segmentId} is not in model version ${model.version}`);
}

async function withModel(deps: QueryDeps, answer: (model: SegmentationModel) => QueryResponse): Promise<QueryResponse> {
  const model = await deps.models.getActive();
  if (!model) return problem(404, 'no-model', 'No active model', 'no segmentation model has been published yet');
  return answer(model);
}

/** The live profile, or null for an unknown or erased customer (a tombstone). */
async function liveProfile(deps: QueryDeps, customerId: string): Promise<CustomerProfile | null> {
  const profile = await deps.profiles.get(customerId);
  return profile && !isTombstone(profile) ? profile : null;
}

function unknownCustomer(): QueryResponse {
  // The same answer for "never seen" and "erased": an erased customer's existence is not disclosed either.
  return problem(404, 'not-found', 'Unknown customer', 'no customer with this id');
}

async function customer(deps: QueryDeps, customerId: string): Promise<QueryResponse> {
  const profile = await liveProfile(deps, customerId);
  if (!profile) return unknownCustomer();
  const model = await deps.models.getActive();
  const a = profile.assignment;
  const features = featuresAsOf(profile, deps.clock(), deps.settings);
  const segmentProfile = a ? (model?.profiles.find((p) => p.segmentId === a.segmentId) ?? null) : null;
  return json(customerResponseSchema, {
    customerId,
    segment: a
      ? {
          segmentId: a.segmentId,
          name: nameIn(model, a.segmentId) ?? a.name ?? a.segmentId,
          modelVersion: a.modelVersion,
          since: a.since,
          confidence: a.confidence,
          distance: a.distance,
        }
      : null,
    probabilities: a?.topProbabilities ?? [],
    holdout: a ? isHeldOut(customerId, a.segmentId, deps.settings.holdout) : false,
    traits: profile.traits,
    lifecycleStage: profile.lifecycleStage,
    rfm: profile.traits?.rfm ?? null,
    history: profile.history.map((t) => ({
      at: t.at,
      detailType: t.detailType,
      from: t.from,
      to: t.to,
      reason: t.reason,
      ...(t.modelVersion !== undefined ? { modelVersion: t.modelVersion } : {}),
      ...(t.cause !== undefined ? { cause: t.cause } : {}),
    })),
    why: explainCustomer(features, segmentProfile),
    currency: deps.settings.currency.base,
    updatedAt: profile.updatedAt,
  });
}

function nameIn(model: SegmentationModel | null, segmentId: string): string | null {
  if (!model) return null;
  const i = model.segmentIds.indexOf(segmentId);
  return i >= 0 ? (model.names[i] ?? null) : null;
}

async function recommendations(deps: QueryDeps, customerId: string): Promise<QueryResponse> {
  const profile = await liveProfile(deps, customerId);
  if (!profile) return unknownCustomer();
  const model = await deps.models.getActive();
  const segmentId = profile.assignment?.segmentId ?? null;
  const entry = segmentId ? model?.catalogue?.find((c) => c.segmentId === segmentId) : undefined;
  const features = featuresAsOf(profile, deps.clock(), deps.settings);
  return json(recommendationsResponseSchema, {
    customerId,
    segmentId,
    modelVersion: model?.version ?? null,
    skus: entry ? productsNotBought(entry.recommendations, features.products) : [],
  });
}

/** The member columns, in order (CSV header and JSON keys). */
export const MEMBER_COLUMNS = [
  'customerId',
  'confidence',
  'lifecycleStage',
  'pAlive',
  'churnRisk',
  'clv',
  'rfmGroup',
] as const;

export function memberOf(profile: CustomerProfile): Member {
  const t = profile.traits;
  return {
    customerId: profile.customerId,
    confidence: profile.assignment?.confidence ?? null,
    lifecycleStage: profile.lifecycleStage,
    pAlive: t?.pAlive ?? null,
    churnRisk: t?.churnRisk ?? null,
    clv: t?.clv ?? null,
    rfmGroup: t?.rfm?.group ?? null,
  };
}

/** One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break; quotes doubled. */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function membersCsv(members: readonly Member[]): string {
  const lines = [MEMBER_COLUMNS.join(',')];
  for (const m of members) lines.push(MEMBER_COLUMNS.map((c) => csvField(m[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

async function members(deps: QueryDeps, segmentId: string, query: QueryRequest['query']): Promise<QueryResponse> {
  const parsed = membersQuerySchema.safeParse(query);
  if (!parsed.success) {
    return badParams(parsed.error.issues.map((i) => ({ name: String(i.path[0] ?? 'query'), reason: i.message })));
  }
  const { cursor, limit, format } = parsed.data;
  let page: MembersPage;
  try {
    page = await deps.members.page(segmentId, limit, cursor ?? null);
  } catch (err) {
    if (err instanceof InvalidCursorError) return badParams([{ name: 'cursor', reason: err.message }]);
    throw err;
  }
  const profiles = await deps.profiles.getMany(page.customerIds);
  // The index is eventually consistent: a member that left the segment (or was erased) since is left out.
  const list = page.customerIds
    .map((cid) => profiles.get(cid))
    .filter((p): p is CustomerProfile => !!p && !isTombstone(p) && p.assignment?.segmentId === segmentId)
    .map(memberOf);
  const body = membersResponseSchema.parse({ segmentId, members: list, nextCursor: page.nextCursor });
  if (format === 'csv') {
    return {
      status: 200,
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        ...(page.nextCursor ? { 'x-next-cursor': page.nextCursor } : {}),
      },
      body: membersCsv(body.members),
    };
  }
  return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
