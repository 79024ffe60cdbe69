import type { CustomerFeatures, FeatureSettings, LoggedEvent } from '../domain/features';
import { applyEvent, emptyState, featuresOf, type CustomerState } from './state';

/**
 * The reference fold: the customer's whole event log, de-duplicated by event id (the earliest copy by time, then
 * content, wins) and replayed in canonical order (event time, then event id) through the same per-event merge as
 * the incremental path, evaluated as of `asOf`. The incremental state must always equal this (tests/unit/customer).
 */
export function foldEvents(events: readonly LoggedEvent[], asOf: Date, settings: FeatureSettings): CustomerFeatures {
  return featuresOf(foldState(events, settings), asOf, settings);
}

/** The state of a whole log: de-duplicated by event id and replayed in canonical order. */
export function foldState(events: readonly LoggedEvent[], settings: FeatureSettings): CustomerState {
  const state = emptyState();
  for (const { event, embedding } of canonical(events)) applyEvent(state, event, embedding, settings);
  return state;
}

interface Timed {
  logged: LoggedEvent;
  t: number;
}

/** Canonical order: by event time, then event id; one copy per event id. */
function canonical(events: readonly LoggedEvent[]): LoggedEvent[] {
  const byId = new Map<string, Timed>();
  for (const logged of events) {
    const e: Timed = { logged, t: Date.parse(logged.event.detail.occurredAt) };
    const prev = byId.get(logged.event.detail.eventId);
    if (!prev || compareEvents(e, prev) < 0) byId.set(logged.event.detail.eventId, e);
  }
  return [...byId.values()].sort(compareEvents).map((e) => e.logged);
}

function compareEvents(a: Timed, b: Timed): number {
  if (a.t !== b.t) return a.t - b.t;
  const ia = a.logged.event.detail.eventId;
  const ib = b.logged.event.detail.eventId;
  if (ia !== ib) return ia < ib ? -1 : 1;
  const ja = JSON.stringify(a.logged.event);
  const jb = JSON.stringify(b.logged.event);
  if (ja !== jb) return ja < jb ? -1 : 1;
  // Same event: prefer the copy that carries an embedding.
  return rank(b.logged.embedding) - rank(a.logged.embedding);
}

function rank(e: LoggedEvent['embedding']): number {
  return e instanceof Float32Array ? 2 : e === 'refused' ? 1 : 0;
}
