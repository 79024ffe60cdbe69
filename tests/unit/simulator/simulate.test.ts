import { validateInbound } from '../../../shared/contracts/validate';
import { LIMITS } from '../../../shared/contracts/limits';
import { simulateStore, DAY_MS, type Delivery, type SimulateOptions } from '../../../local/simulator';
import { iso } from '../../../local/simulator/simulate';
import { poisson, apportion, Categorical } from '../../../local/simulator/sample';
import { createRng } from '../../../shared/util/rng';

type Detail = Record<string, unknown>;
const detailOf = (d: Delivery): Detail => d.detail as Detail;
const envelope = (d: Delivery) => ({ 'detail-type': d.detailType, detail: d.detail });

function run(opts: SimulateOptions): Delivery[] {
  const out: Delivery[] = [];
  for (const day of simulateStore(opts).days()) out.push(...day.deliveries);
  return out;
}

// One medium run shared by most assertions (~12k deliveries).
const OPTS: SimulateOptions = { customers: 300, days: 14, seed: 11 };
const store = simulateStore(OPTS);
const days = [...store.days()];
const all = days.flatMap((d) => d.deliveries);

describe('simulateStore', () => {
  test('is deterministic for a seed and differs across seeds', () => {
    const a = run({ customers: 150, days: 4, seed: 3 }).slice(0, 200);
    const b = run({ customers: 150, days: 4, seed: 3 }).slice(0, 200);
    const c = run({ customers: 150, days: 4, seed: 4 }).slice(0, 200);
    expect(a).toHaveLength(200);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    // days() restarts from scratch on every call.
    const again = store.days().next();
    expect(again.done).toBe(false);
    expect(again.value?.deliveries).toEqual(days[0]?.deliveries);
  });

  test('persona sizes are unequal and sum to the customer count; truth agrees', () => {
    const sizes = store.personas.map((p) => p.size);
    expect(sizes.reduce((x, y) => x + y, 0)).toBe(OPTS.customers);
    const ordinary = store.personas.filter((p) => p.kind === 'customer').map((p) => p.size);
    expect(new Set(ordinary).size).toBe(ordinary.length);
    expect(Math.max(...ordinary)).toBeGreaterThan(2 * Math.min(...ordinary));
    expect(store.truth.size).toBe(OPTS.customers);
    for (const p of store.personas) {
      const members = [...store.truth.values()].filter((t) => t.personaIndex === p.index);
      expect(members).toHaveLength(p.size);
      expect(members.every((t) => t.persona === p.name && t.kind === p.kind)).toBe(true);
    }
    expect([...store.truth.keys()][0]).toBe('cust-00001');
    expect(store.truth.has(`cust-${String(OPTS.customers).padStart(5, '0')}`)).toBe(true);
  });

  test('the catalogue has ~10 categories × 30 products with unique skus and titles', () => {
    const { products, categories } = store.catalogue;
    expect(categories).toHaveLength(10);
    expect(products).toHaveLength(300);
    expect(new Set(products.map((p) => p.sku)).size).toBe(300);
    expect(new Set(products.map((p) => p.title)).size).toBe(300);
    expect(products.every((p) => p.price > 0 && p.title.split(' ').length >= 3)).toBe(true);
  });

  test('deliveries are sorted by arrival within each day and arrive on that day', () => {
    const problems: string[] = [];
    for (const { day, date, deliveries } of days) {
      let previous = -Infinity;
      for (const d of deliveries) {
        const t = d.arrivalAt.getTime();
        if (t < date.getTime() || t >= date.getTime() + DAY_MS) problems.push(`day ${day}: arrival outside the day`);
        if (t < previous) problems.push(`day ${day}: out of order`);
        previous = t;
      }
    }
    expect(problems).toEqual([]);
    expect(days.map((d) => d.day)).toEqual([...Array(OPTS.days).keys()]);
  });

  test('every valid delivery passes validateInbound at its arrival; malformed ones fail with the planted reason', () => {
    const reasons = new Map<string, number>();
    const problems: string[] = [];
    for (const d of all) {
      const result = validateInbound(envelope(d), d.arrivalAt);
      const got = result.ok ? 'ok' : result.rejection.reason;
      const want = d.meta?.malformed ?? 'ok';
      if (got !== want) problems.push(`${d.detailType}: got ${got}, want ${want}`);
      if (d.meta?.malformed) reasons.set(d.meta.malformed, (reasons.get(d.meta.malformed) ?? 0) + 1);
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect([...reasons.keys()].sort()).toEqual(['occurred_in_future', 'schema_violation', 'unknown_detail_type']);
    const share = [...reasons.values()].reduce((a, b) => a + b, 0) / all.length;
    expect(share).toBeGreaterThan(0.002);
    expect(share).toBeLessThan(0.01);
  });

  test('event ids are unique except for duplicates, which repeat an earlier delivery exactly', () => {
    const seen = new Map<string, Delivery>();
    const pattern = new RegExp(`^evt-${OPTS.seed}-\\d+$`);
    const problems: string[] = [];
    let duplicates = 0;
    for (const d of all) {
      const id = detailOf(d).eventId as string;
      if (!pattern.test(id)) problems.push(`bad id ${id}`);
      const earlier = seen.get(id);
      if (d.meta?.duplicate) {
        duplicates++;
        // The original always arrives first (a duplicate is sent 1 s to 36 h after it).
        if (!earlier) problems.push(`${id}: duplicate without an earlier delivery`);
        else {
          if (JSON.stringify(d.detail) !== JSON.stringify(earlier.detail)) problems.push(`${id}: detail differs`);
          if (d.arrivalAt <= earlier.arrivalAt) problems.push(`${id}: duplicate arrived first`);
        }
      } else {
        if (earlier) problems.push(`${id}: id reused`);
        seen.set(id, d);
      }
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(duplicates / all.length).toBeGreaterThan(0.005);
    expect(duplicates / all.length).toBeLessThan(0.02);
  });

  test('late events arrive 1 h to 3 days after occurredAt; others within seconds', () => {
    let late = 0;
    const problems: string[] = [];
    for (const d of all) {
      if (d.meta?.malformed === 'occurred_in_future' || d.meta?.duplicate) continue;
      const occurred = Date.parse(String(detailOf(d).occurredAt));
      const lag = d.arrivalAt.getTime() - occurred;
      if (d.meta?.late) {
        late++;
        if (!(lag >= 60 * 60 * 1000 && lag <= 3 * DAY_MS)) problems.push(`late lag ${lag}`);
      } else if (!(lag >= 0 && lag < 5000)) problems.push(`lag ${lag}`);
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(late / all.length).toBeGreaterThan(0.01);
    expect(late / all.length).toBeLessThan(0.03);
  });

  test('drift: ~10% of ordinary customers switch persona, recorded in truth', () => {
    const ordinary = [...store.truth.values()].filter((t) => t.kind === 'customer');
    const switched = ordinary.filter((t) => t.switchedTo !== undefined);
    expect(switched).toHaveLength(Math.round(0.1 * ordinary.length));
    const start = Date.parse('2026-01-05T00:00:00Z');
    for (const t of switched) {
      expect(t.switchedTo).not.toBe(t.persona);
      expect(store.personas.some((p) => p.name === t.switchedTo && p.kind === 'customer')).toBe(true);
      const at = t.switchedAt?.getTime() ?? NaN;
      expect(at).toBeGreaterThan(start);
      expect(at).toBeLessThan(start + OPTS.days * DAY_MS);
    }
    const none = simulateStore({ ...OPTS, driftShare: 0 });
    expect([...none.truth.values()].some((t) => t.switchedTo)).toBe(false);
  });

  test('bots view far more than customers; wholesalers place huge orders', () => {
    const bots = new Set([...store.truth].filter(([, t]) => t.kind === 'bot').map(([id]) => id));
    const wholesalers = new Set([...store.truth].filter(([, t]) => t.kind === 'wholesaler').map(([id]) => id));
    expect(bots.size).toBeGreaterThanOrEqual(1);
    expect(wholesalers.size).toBeGreaterThanOrEqual(1);
    const views = new Map<string, number>();
    const units = new Map<string, number[]>();
    for (const d of all) {
      if (d.meta?.malformed) continue;
      const detail = detailOf(d);
      const id = detail.customerId as string;
      if (d.detailType === 'product.viewed') views.set(id, (views.get(id) ?? 0) + 1);
      if (d.detailType === 'order.placed') {
        const n = (detail.items as { quantity: number }[]).reduce((a, it) => a + it.quantity, 0);
        units.set(id, [...(units.get(id) ?? []), n]);
      }
    }
    const customerViews = [...views].filter(([id]) => !bots.has(id)).map(([, n]) => n);
    const maxCustomerViews = Math.max(...customerViews);
    for (const id of bots) expect(views.get(id) ?? 0).toBeGreaterThan(5 * maxCustomerViews);
    const customerUnits = [...units].filter(([id]) => !wholesalers.has(id)).flatMap(([, n]) => n);
    const wholesaleUnits = [...units].filter(([id]) => wholesalers.has(id)).flatMap(([, n]) => n);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    expect(median(wholesaleUnits)).toBeGreaterThan(50 * median(customerUnits));
  });

  test('planted structure is visible: niche personas concentrate on their category', () => {
    const signature: Record<string, string> = {
      new_parent: 'baby',
      keen_gardener: 'garden',
      gadget_fan: 'electronics',
      bookworm: 'books',
    };
    const hits = new Map<string, [number, number]>();
    for (const d of all) {
      if (d.meta?.malformed) continue;
      const detail = detailOf(d);
      const t = store.truth.get(detail.customerId as string);
      if (!t || t.switchedTo || !(t.persona in signature)) continue;
      const categories =
        d.detailType === 'order.placed'
          ? (detail.items as { category: string }[]).map((i) => i.category)
          : typeof detail.category === 'string'
            ? [detail.category]
            : [];
      const [hit, total] = hits.get(t.persona) ?? [0, 0];
      const n = categories.filter((c) => c === signature[t.persona]).length;
      hits.set(t.persona, [hit + n, total + categories.length]);
    }
    for (const persona of Object.keys(signature)) {
      const [hit, total] = hits.get(persona) ?? [0, 0];
      expect(total).toBeGreaterThan(50);
      expect(hit / total).toBeGreaterThan(0.6);
    }
    // Bargain hunters use discounts far more than loyal high spenders, who spend far more per order.
    const orders = all.filter((d) => d.detailType === 'order.placed' && !d.meta?.malformed && !d.meta?.duplicate);
    const stat = (persona: string) => {
      const mine = orders.map(detailOf).filter((o) => {
        const t = store.truth.get(o.customerId as string);
        return t?.persona === persona && !t.switchedTo;
      });
      return {
        discounted: mine.filter((o) => (o.discount as number) > 0).length / mine.length,
        aov: mine.reduce((a, o) => a + (o.total as number), 0) / mine.length,
      };
    };
    const bargain = stat('bargain_hunter');
    const loyal = stat('loyal_high_spender');
    expect(bargain.discounted).toBeGreaterThan(0.5);
    expect(loyal.discounted).toBeLessThan(0.2);
    expect(loyal.aov).toBeGreaterThan(3 * bargain.aov);
  });

  test('orders, money and ids respect the inbound limits', () => {
    const orderIds = new Set<string>();
    const problems: string[] = [];
    for (const d of all) {
      if (d.detailType !== 'order.placed' || d.meta) continue;
      const o = detailOf(d);
      if ((o.total as number) > LIMITS.maxMoney) problems.push(`total ${String(o.total)}`);
      if ((o.items as unknown[]).length > LIMITS.maxItemsPerOrder) problems.push('too many items');
      if (orderIds.has(o.orderId as string)) problems.push(`order id reused ${String(o.orderId)}`);
      orderIds.add(o.orderId as string);
    }
    expect(problems).toEqual([]);
    expect(orderIds.size).toBeGreaterThan(100);
  });

  test('rejects nonsense options', () => {
    expect(() => simulateStore({ customers: 0, days: 1, seed: 1 })).toThrow();
    expect(() => simulateStore({ customers: 10, days: 0.5, seed: 1 })).toThrow();
  });
});

describe('simulator helpers', () => {
  test('iso matches Date#toISOString', () => {
    const rng = createRng(5);
    const mismatches: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const ms = Date.UTC(2026, 0, 1) + Math.floor(rng.next() * 400 * DAY_MS);
      if (iso(ms) !== new Date(ms).toISOString()) mismatches.push(new Date(ms).toISOString());
    }
    expect(mismatches).toEqual([]);
  });

  test('poisson has the right mean; apportion sums exactly; categorical respects weights', () => {
    const rng = createRng(9);
    for (const lambda of [0.05, 1.5, 12, 120]) {
      let sum = 0;
      for (let i = 0; i < 4000; i++) sum += poisson(rng, lambda);
      expect(Math.abs(sum / 4000 - lambda)).toBeLessThan(0.05 * lambda + 0.02);
    }
    expect(apportion(1000, [21, 7, 22]).reduce((a, b) => a + b, 0)).toBe(1000);
    const cat = new Categorical([
      ['a', 3],
      ['b', 1],
    ] as const);
    let a = 0;
    for (let i = 0; i < 4000; i++) if (cat.sample(rng) === 'a') a++;
    expect(a / 4000).toBeCloseTo(0.75, 1);
  });
});
