/** Hard limits applied at the edge. Values past them are rejected with a reason, never truncated silently. */
export const LIMITS = {
  idLength: 128,
  titleLength: 512,
  categoryLength: 256,
  queryLength: 512,
  reviewTextLength: 5_000,
  maxItemsPerOrder: 500,
  maxQuantity: 100_000,
  maxMoney: 10_000_000,
  /** Events dated further than this into the future (relative to arrival) are rejected. */
  maxFutureSkewMs: 24 * 60 * 60 * 1000,
  /** Events older than this are rejected as absurd (before e-commerce). */
  minOccurredAt: '1990-01-01T00:00:00Z',
} as const;
