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
  /**
   * Deepest nesting accepted inside `detail` (the detail object itself is depth 1; `items[0].sku` is depth 3).
   * Deeper payloads cannot be serialised safely everywhere they travel (JSON.stringify and the DynamoDB
   * marshaller recurse), so they are rejected with `too_deep` before anything recurses over them.
   */
  maxDetailDepth: 32,
  /**
   * Largest accepted `detail`, in UTF-8 bytes of its JSON. A stored event item is the detail plus keys and an
   * embedding (≤ 4,096 float32s, 16 KiB), so 128 KiB keeps it well inside DynamoDB's 400 KB item limit and inside
   * EventBridge's 256 KB entry limit when it is relayed. Larger payloads are rejected with `too_large`.
   */
  maxDetailBytes: 128 * 1024,
  /** Events dated further than this into the future (relative to arrival) are rejected. */
  maxFutureSkewMs: 24 * 60 * 60 * 1000,
  /** Events older than this are rejected as absurd (before e-commerce). */
  minOccurredAt: '1990-01-01T00:00:00Z',
} as const;
