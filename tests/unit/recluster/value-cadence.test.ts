import { carriedValue, VALUE_MAX_SAMPLE_CHANGE } from '../../../shared/recluster/fit-model';
import {
  CDNOW_BGNBD_PARAMS,
  CDNOW_GAMMA_GAMMA_PARAMS,
  valueSampleCounts,
  type ValueModel,
} from '../../../shared/value';

const fitted: ValueModel = {
  bgnbd: { r: 0.5, alpha: 6, a: 0.7, b: 2.9, source: 'fit', converged: true },
  gammaGamma: { ...CDNOW_GAMMA_GAMMA_PARAMS, source: 'fit' },
  timeUnit: 'weeks',
  counts: { customers: 1000, repeatCustomers: 400, spendCustomers: 380 },
  fittedAsOf: '2026-03-01T00:00:00.000Z',
};
/** Tonight's counts: `customers`, with the fit's shares of repeat buyers (40 %) and spenders (38 %) unless given. */
const counts = (customers: number, repeat = customers * 0.4, spend = customers * 0.38) => ({
  customers,
  repeatCustomers: repeat,
  spendCustomers: spend,
});
const night = (n: number) => new Date(Date.parse('2026-03-01T00:00:00.000Z') + n * 86_400_000).toISOString();

describe('the value model is refitted on its own cadence (value.refitEveryNights)', () => {
  test('a refit night within the cadence and 10 % of the customers carries the active parameters unchanged', () => {
    for (const n of [0, 1, 6]) expect(carriedValue(fitted, counts(1000), night(n), 7)).toBe(fitted);
    expect(carriedValue(fitted, counts(1000 * (1 + VALUE_MAX_SAMPLE_CHANGE)), night(3), 7)).toBe(fitted);
    expect(carriedValue(fitted, counts(1000 * (1 - VALUE_MAX_SAMPLE_CHANGE)), night(3), 7)).toBe(fitted);
  });

  test('the parameters are refitted when they are due, when the store changed by more than 10 %, or every night at 1', () => {
    expect(carriedValue(fitted, counts(1000), night(7), 7)).toBeNull();
    expect(carriedValue(fitted, counts(1000), night(30), 7)).toBeNull();
    expect(carriedValue(fitted, counts(1101), night(1), 7)).toBeNull();
    expect(carriedValue(fitted, counts(899), night(1), 7)).toBeNull();
    expect(carriedValue(fitted, counts(1000), night(0), 1)).toBe(fitted);
    expect(carriedValue(fitted, counts(1000), night(1), 1)).toBeNull();
  });

  test('a young store whose repeat buyers grew by more than 10 % refits, though its customers did not', () => {
    expect(carriedValue(fitted, counts(1000, 460, 380), night(1), 7)).toBeNull();
    expect(carriedValue(fitted, counts(1000, 400, 430), night(1), 7)).toBeNull();
    expect(carriedValue(fitted, counts(1000, 430, 400), night(1), 7)).toBe(fitted);
    // Counted as fitValueModel counts them.
    const rows = [
      { x: 0, tx: 0, T: 3 },
      { x: 2, tx: 1, T: 3, meanSpend: 20 },
      { x: 1, tx: 1, T: 2 },
    ];
    expect(valueSampleCounts(rows)).toEqual({ customers: 3, repeatCustomers: 2, spendCustomers: 1 });
  });

  test('a model without its fit night (stored before the cadence) or from a later night is refitted', () => {
    const { fittedAsOf: _omitted, ...legacy } = fitted;
    expect(carriedValue(legacy, counts(1000), night(1), 7)).toBeNull();
    expect(carriedValue(undefined, counts(1000), night(1), 7)).toBeNull();
    expect(carriedValue(fitted, counts(1000), night(-1), 7)).toBeNull();
  });

  test('a prior chosen after a failed fit is carried too: the store retries its fit weekly or when it grows', () => {
    const prior: ValueModel = { ...fitted, bgnbd: { ...CDNOW_BGNBD_PARAMS, source: 'prior', reason: 'unidentified' } };
    expect(carriedValue(prior, counts(1050), night(2), 7)).toBe(prior);
    expect(carriedValue(prior, counts(1200), night(2), 7)).toBeNull();
  });
});
