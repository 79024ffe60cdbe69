import type { CustomerProfile } from './profile';
import type { ProfileStore } from './store';

/** Longest chain of merges followed (a → b → c … ): beyond it, or on a cycle, an id is unresolved. */
export const MAX_ALIAS_HOPS = 8;

export type AliasProblem = 'alias_cycle' | 'alias_chain_too_long';

export interface Resolution {
  /** Each requested id → the survivor its events count for (itself when it is no alias). */
  survivor: Map<string, string>;
  /** Every profile read on the way (requested ids, intermediate aliases and survivors), by id. */
  profiles: Map<string, CustomerProfile>;
  /** Ids whose chain could not be followed, with the reason (the caller fails their records). */
  unresolved: Map<string, AliasProblem>;
}

/**
 * Resolves ids to their survivors by following `aliasOf`. One batched read of the ids (the read the ingest path
 * makes anyway), then one more per hop only while some chain is not resolved yet: a batch without aliases costs
 * nothing extra; a chain of k merges costs k more reads. Cycles (which the merge never writes) and chains longer
 * than MAX_ALIAS_HOPS are reported, not followed.
 */
export async function resolveAliases(ids: readonly string[], profiles: ProfileStore): Promise<Resolution> {
  const read = new Map<string, CustomerProfile>();
  let wanted = [...new Set(ids)];
  for (let hop = 0; hop <= MAX_ALIAS_HOPS && wanted.length > 0; hop++) {
    const got = await profiles.getMany(wanted);
    for (const [id, p] of got) read.set(id, p);
    const asked = new Set(wanted);
    wanted = [
      ...new Set(
        [...got.values()]
          .map((p) => p.aliasOf)
          .filter((t): t is string => t !== undefined && !read.has(t) && !asked.has(t)),
      ),
    ];
  }
  const survivor = new Map<string, string>();
  const unresolved = new Map<string, AliasProblem>();
  for (const id of new Set(ids)) {
    const seen = new Set<string>([id]);
    let at = id;
    let problem: AliasProblem | null = null;
    for (let hops = 0; ; hops++) {
      const next = read.get(at)?.aliasOf;
      if (next === undefined) break;
      if (seen.has(next)) {
        problem = 'alias_cycle';
        break;
      }
      if (hops >= MAX_ALIAS_HOPS) {
        problem = 'alias_chain_too_long';
        break;
      }
      seen.add(next);
      at = next;
    }
    if (problem) unresolved.set(id, problem);
    else survivor.set(id, at);
  }
  return { survivor, profiles: read, unresolved };
}
