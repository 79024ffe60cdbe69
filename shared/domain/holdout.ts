/**
 * Holdout (control) groups. A customer is held out of a segment deterministically: the SHA-256 of
 * (customer id, segment id, the stage's salt), its first 48 bits read as a number u in [0, 1), compared with the
 * stage's holdout share: held out iff u < share. So the same customer is held out of the same segment on every
 * evaluation, in every function and in the nightly aggregation, with no stored state; each segment draws its own
 * control group; and a new salt draws new groups. Pure.
 */
import { createHash } from 'node:crypto';

export interface HoldoutSettings {
  /** Share of each segment's customers held out, in [0, 0.5]; 0 (the default) holds nobody out. */
  share: number;
  /** Per-stage salt: changing it draws new control groups. */
  salt: string;
}

const TWO_48 = 2 ** 48;

/** The customer's uniform draw in [0, 1) for a segment (first 48 bits of SHA-256 of id, segment and salt). */
export function holdoutDraw(customerId: string, segmentId: string, salt: string): number {
  const digest = createHash('sha256').update(`${customerId}\u0000${segmentId}\u0000${salt}`).digest();
  return digest.readUIntBE(0, 6) / TWO_48;
}

/** Whether the customer is held out of the segment (false when no holdout is configured). */
export function isHeldOut(customerId: string, segmentId: string, holdout: HoldoutSettings | undefined): boolean {
  if (!holdout || !(holdout.share > 0)) return false;
  return holdoutDraw(customerId, segmentId, holdout.salt) < holdout.share;
}
