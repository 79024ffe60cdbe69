/**
 * Streams the UCI "Online Retail" CSV (Chen, Sain & Guo 2012; CC BY 4.0) as inbound events.
 *
 * Mapping (see /work/shared/data/README.md):
 * - Lines of an invoice are contiguous; consecutive lines with the same InvoiceNo form one invoice.
 * - An ordinary invoice → `order.placed`: eventId `uci-<InvoiceNo>`, orderId `<InvoiceNo>`, items from its lines
 *   (sku = StockCode, title = Description trimmed, category by keyword rules, price = UnitPrice, quantity), total =
 *   Σ price × quantity rounded to pence, currency GBP, channel web, discount 0.
 * - A cancellation (`C` prefix) → one `order.refunded` per order it cancels. The data does not link a
 *   cancellation to its invoice, so each cancellation line is matched to an earlier order line (CANCELLATION RULE):
 *   1. the latest earlier order line of the same customer and stock code whose not-yet-cancelled quantity EQUALS
 *      the cancelled quantity; otherwise
 *   2. the latest earlier order line of the same customer and stock code with MORE not-yet-cancelled quantity
 *      (a partial return); its remaining quantity goes down by the cancelled quantity;
 *   3. otherwise the line is unmatched: its order is not in the data (bought before it starts, or a discount,
 *      fee or manual line that was never an order line), and it is rejected as `unmatched_cancellation`, so that
 *      it nets no other order's money.
 *   Matched lines are grouped by the order they cancel, in the order first matched: orderId = that order's id
 *   (with its part suffix), amount = Σ |quantity| × the cancellation line's UnitPrice, rounded to pence; eventId
 *   `uci-C<n>` for the first group and `uci-C<n>-r<k>` (k = 2, 3, …) for the next ones.
 *   "Earlier" means earlier in the file, which is in time order; an order line is matched at most up to its
 *   quantity, whatever the number of cancellations.
 * - occurredAt = InvoiceDate (UK local time, BST handled) as ISO UTC; customerId = CustomerID without `.0`;
 *   arrival time = occurredAt. An invoice whose lines carry different dates (43 in the file) takes its first
 *   valid line's date.
 *
 * Rejections (`line` = the 1-based physical line, header = line 1):
 * - `missing_customer`: a line without CustomerID (counted per line).
 * - `adjustment_invoice`: an `A` (bad-debt adjustment) invoice (once, at its first line).
 * - `invalid_line`: a line with a non-positive or non-integer quantity in an ordinary invoice (non-negative in a
 *   cancellation), a price ≤ 0, values past the inbound limits, an unreadable date, or a different customer
 *   than the invoice's first line; the line is dropped from its invoice.
 * - `empty_invoice`: an invoice with customer lines none of which survived (at the invoice's first line).
 * - `unmatched_cancellation`: a valid cancellation line with no earlier order line to cancel (rule 3 above).
 * - `malformed_line`: a line that is not a CSV record with the expected columns.
 *
 * Edge cases in the real file: an invoice over the 500-item limit is split into parts, and an invoice number
 * that reappears after another invoice (542806 does, once) becomes a further part. Parts after the first get
 * eventId `uci-<InvoiceNo>-<k>` and orderId `<InvoiceNo>-<k>`, k = 2, 3, …
 */
import { LIMITS } from '../../shared/contracts/limits';
import { parseCsvRecord } from './csv';
import { readLines } from './lines';
import { parseLondonTimestamp } from './london-time';
import type { Delivery } from '../simulator/types';
import type { ReplayItem } from './types';

export const ONLINE_RETAIL_REJECTIONS = [
  'missing_customer',
  'adjustment_invoice',
  'invalid_line',
  'empty_invoice',
  'malformed_line',
  'unmatched_cancellation',
] as const;
export type OnlineRetailRejection = (typeof ONLINE_RETAIL_REJECTIONS)[number];

/** Column names, with the aliases of the later "Online Retail II" release. */
const COLUMNS = {
  invoice: ['invoiceno', 'invoice'],
  stockCode: ['stockcode'],
  description: ['description'],
  quantity: ['quantity'],
  date: ['invoicedate'],
  price: ['unitprice', 'price'],
  customer: ['customerid', 'customer id'],
} as const;
type Column = keyof typeof COLUMNS;
type ColumnIndex = Record<Column, number>;
const DEFAULT_INDEX: ColumnIndex = {
  invoice: 0,
  stockCode: 1,
  description: 2,
  quantity: 3,
  date: 4,
  price: 5,
  customer: 6,
};

function headerIndex(fields: string[]): ColumnIndex | undefined {
  const names = fields.map((f) => f.trim().toLowerCase());
  const index = {} as ColumnIndex;
  for (const [column, aliases] of Object.entries(COLUMNS) as [Column, readonly string[]][]) {
    const i = names.findIndex((n) => aliases.includes(n));
    if (i < 0) return undefined;
    index[column] = i;
  }
  return index;
}

/** Non-product stock codes: postage, carriage, fees, manual adjustments, samples. */
const SERVICE_CODES = new Set(['POST', 'DOT', 'C2', 'M', 'D', 'S', 'B', 'CRUK', 'PADS', 'BANK CHARGES', 'AMAZONFEE']);

/** Ordered keyword rules: the first match wins. */
const CATEGORY_RULES: readonly (readonly [string, RegExp])[] = [
  ['christmas', /\b(christmas|xmas|advent|santa|reindeer|snowflake)/],
  ['bags', /\b(bags?|totes?|shoppers?|purses?)\b/],
  ['lighting', /\b(candles?|lights?|lanterns?|t-lights?|tealights?|lamps?|holders?)\b/],
  [
    'kitchen',
    /\b(mugs?|cups?|teacups?|saucers?|teapots?|kitchen|cake|baking|bowls?|plates?|jam|cutlery|tea|spoons?|lunch|jugs?|tins?)\b/,
  ],
  ['stationery', /\b(cards?|paper|wrap|wrapping|notebooks?|pencils?|pens?|stickers?|envelopes?|journal)\b/],
  ['garden', /\b(garden|plant|planters?|flower ?pots?|watering|bird ?(house|feeder|table)s?)\b/],
  ['toys', /\b(toys?|dolls?|games?|puzzles?|jigsaws?|skittles|dominoes|spaceboy)\b/],
  ['decoration', /\b(hearts?|decorations?|ornaments?|bunting|garlands?|wreaths?|hanging)\b/],
  ['clocks', /\b(clocks?)\b/],
];

/** Category of an Online Retail line from its description (and stock code, for fees and postage). */
export function onlineRetailCategory(description: string, stockCode = ''): string {
  if (SERVICE_CODES.has(stockCode.trim().toUpperCase())) return 'service';
  const d = description.toLowerCase();
  for (const [category, rule] of CATEGORY_RULES) if (rule.test(d)) return category;
  return 'home';
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

interface Item {
  sku: string;
  title: string;
  category: string;
  price: number;
  quantity: number;
}

/** A valid line of a cancellation invoice; quantity is the cancelled quantity (positive). */
interface CancelledLine {
  sku: string;
  quantity: number;
  price: number;
  line: number;
}

/** An order line that later cancellations may match; `remaining` is its quantity not yet cancelled. */
interface OrderLine {
  orderId: string;
  remaining: number;
}

interface Invoice {
  number: string;
  kind: 'order' | 'cancellation' | 'adjustment';
  firstLine: number;
  customerId?: string;
  occurredAt?: string;
  items: Item[];
  cancelled: CancelledLine[];
  customerLines: number;
}

/**
 * The order line a cancellation line cancels (see CANCELLATION RULE in the header), or undefined. `lines` are one
 * customer's lines of one stock code, oldest first.
 */
export function matchCancellation(lines: readonly OrderLine[], quantity: number): OrderLine | undefined {
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i]!.remaining === quantity) return lines[i];
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i]!.remaining > quantity) return lines[i];
  return undefined;
}

export interface OnlineRetailOptions {
  /** Stop after this many physical lines (header included); the invoice being read is emitted as it stands. */
  maxLines?: number;
}

/**
 * Streams `path` (gzip when it ends in `.gz`) record by record; memory is one invoice, a per-invoice-number
 * part counter (~26k entries for the whole file) and the order lines that cancellations may match (~400k). Breaking out of the loop closes the file.
 */
export async function* readOnlineRetail(path: string, opts: OnlineRetailOptions = {}): AsyncGenerator<ReplayItem> {
  const maxLines = opts.maxLines ?? Infinity;
  let physical = 0;
  let index: ColumnIndex | undefined;
  let current: Invoice | undefined;
  const parts = new Map<string, number>();
  // customer \0 stock code → that customer's order lines of that code, oldest first (for cancellations).
  const orderLines = new Map<string, OrderLine[]>();
  const lineKey = (customerId: string, sku: string): string => `${customerId}\u0000${sku}`;
  let pending = '';
  let pendingLine = 0;
  // Consecutive lines mostly share a date, and descriptions repeat: small caches keep the pass fast.
  let lastDate = '';
  let lastDateMs: number | undefined;
  const categories = new Map<string, string>();
  const categoryOf = (title: string, sku: string): string => {
    const key = `${sku}\u0000${title}`;
    let category = categories.get(key);
    if (category === undefined) {
      if (categories.size >= 20_000) categories.clear();
      category = onlineRetailCategory(title, sku);
      categories.set(key, category);
    }
    return category;
  };

  const nextPart = (invoiceNo: string): string => {
    const k = (parts.get(invoiceNo) ?? 0) + 1;
    parts.set(invoiceNo, k);
    return k === 1 ? '' : `-${k}`;
  };

  function* flush(inv: Invoice): Generator<ReplayItem> {
    if (inv.kind === 'adjustment' || inv.customerLines === 0) return;
    const customerId = inv.customerId;
    const occurredAt = inv.occurredAt;
    const valid = inv.kind === 'order' ? inv.items.length : inv.cancelled.length;
    if (valid === 0 || customerId === undefined || occurredAt === undefined) {
      yield { kind: 'rejected', reason: 'empty_invoice', line: inv.firstLine };
      return;
    }
    const arrivalAt = new Date(occurredAt);
    if (inv.kind === 'cancellation') {
      const suffix = nextPart(inv.number);
      const amounts = new Map<string, number>();
      for (const c of inv.cancelled) {
        const match = matchCancellation(orderLines.get(lineKey(customerId, c.sku)) ?? [], c.quantity);
        if (match === undefined) {
          yield { kind: 'rejected', reason: 'unmatched_cancellation', line: c.line };
          continue;
        }
        match.remaining -= c.quantity;
        amounts.set(match.orderId, (amounts.get(match.orderId) ?? 0) + c.quantity * c.price);
      }
      let k = 0;
      for (const [orderId, amount] of amounts) {
        k++;
        const detail = {
          eventId: `uci-${inv.number}${suffix}${k === 1 ? '' : `-r${k}`}`,
          customerId,
          occurredAt,
          schemaVersion: 1,
          orderId,
          amount: round2(amount),
          currency: 'GBP',
        };
        const delivery: Delivery = { arrivalAt, detailType: 'order.refunded', detail };
        yield { kind: 'event', delivery };
      }
      return;
    }
    for (let from = 0; from < inv.items.length; from += LIMITS.maxItemsPerOrder) {
      const items = inv.items.slice(from, from + LIMITS.maxItemsPerOrder);
      const suffix = nextPart(inv.number);
      for (const item of items) {
        const key = lineKey(customerId, item.sku);
        let lines = orderLines.get(key);
        if (!lines) orderLines.set(key, (lines = []));
        lines.push({ orderId: `${inv.number}${suffix}`, remaining: item.quantity });
      }
      const detail = {
        eventId: `uci-${inv.number}${suffix}`,
        customerId,
        occurredAt,
        schemaVersion: 1,
        orderId: `${inv.number}${suffix}`,
        total: round2(items.reduce((sum, it) => sum + it.price * it.quantity, 0)),
        currency: 'GBP',
        channel: 'web',
        discount: 0,
        items,
      };
      const delivery: Delivery = { arrivalAt, detailType: 'order.placed', detail };
      yield { kind: 'event', delivery };
    }
  }

  /** Handles one complete record; yields rejections and finished invoices. */
  function* record(fields: string[], line: number): Generator<ReplayItem> {
    if (index === undefined) {
      index = headerIndex(fields);
      if (index) return; // a header line
      index = DEFAULT_INDEX;
    }
    const ix = index;
    const get = (c: Column): string | undefined => fields[ix[c]];
    const invoiceNo = get('invoice')?.trim();
    const rawCustomer = get('customer');
    if (!invoiceNo || rawCustomer === undefined || fields.length < 7) {
      yield { kind: 'rejected', reason: 'malformed_line', line };
      return;
    }
    if (current?.number !== invoiceNo) {
      if (current) yield* flush(current);
      const prefix = invoiceNo.charAt(0).toUpperCase();
      current = {
        number: invoiceNo,
        kind: prefix === 'C' ? 'cancellation' : prefix === 'A' ? 'adjustment' : 'order',
        firstLine: line,
        items: [],
        cancelled: [],
        customerLines: 0,
      };
      if (current.kind === 'adjustment') yield { kind: 'rejected', reason: 'adjustment_invoice', line };
    }
    const inv = current;
    if (inv.kind === 'adjustment') return;

    const customer = rawCustomer.trim().replace(/\.0+$/, '');
    if (customer === '') {
      yield { kind: 'rejected', reason: 'missing_customer', line };
      return;
    }
    inv.customerLines++;
    const quantity = Number(get('quantity')?.trim() || NaN);
    const price = Number(get('price')?.trim() || NaN);
    const sku = get('stockCode')?.trim() ?? '';
    const date = get('date') ?? '';
    if (date !== lastDate) {
      lastDate = date;
      lastDateMs = parseLondonTimestamp(date);
    }
    const occurredMs = lastDateMs;
    const sameCustomer = inv.customerId === undefined || inv.customerId === customer;
    const priceOk = price > 0 && price <= LIMITS.maxMoney;
    const quantityOk =
      Number.isInteger(quantity) &&
      (inv.kind === 'cancellation'
        ? quantity < 0 && -quantity <= LIMITS.maxQuantity
        : quantity > 0 && quantity <= LIMITS.maxQuantity);
    if (
      !sameCustomer ||
      !priceOk ||
      !quantityOk ||
      occurredMs === undefined ||
      sku === '' ||
      sku.length > LIMITS.idLength ||
      customer.length > LIMITS.idLength
    ) {
      yield { kind: 'rejected', reason: 'invalid_line', line };
      return;
    }
    inv.customerId ??= customer;
    inv.occurredAt ??= new Date(occurredMs).toISOString();
    if (inv.kind === 'cancellation') {
      inv.cancelled.push({ sku, quantity: -quantity, price, line });
    } else {
      const title = (get('description') ?? '').trim().slice(0, LIMITS.titleLength);
      inv.items.push({ sku, title, category: categoryOf(title, sku), price, quantity });
    }
  }

  for await (const text of readLines(path)) {
    if (physical >= maxLines) break;
    physical++;
    if (pending === '' && text.trim() === '') continue;
    const joined = pending === '' ? text : `${pending}\n${text}`;
    const startLine = pending === '' ? physical : pendingLine;
    const fields = parseCsvRecord(joined);
    if (fields === null) {
      pending = joined;
      pendingLine = startLine;
      continue;
    }
    pending = '';
    yield* record(fields, startLine);
  }
  if (pending !== '') yield { kind: 'rejected', reason: 'malformed_line', line: pendingLine };
  if (current) yield* flush(current);
}
