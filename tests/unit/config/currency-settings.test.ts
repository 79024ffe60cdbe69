import { currencySettingsSchema, settingsSchema } from '../../../shared/config/settings';
import { STAGES, stageConfig } from '../../../infra/config/stages';

describe('currency settings (issue #9 A4)', () => {
  test('default: base GBP, no rates', () => {
    expect(currencySettingsSchema.parse({})).toEqual({ base: 'GBP', rates: {} });
  });

  const cases: { name: string; input: unknown; ok: boolean }[] = [
    { name: 'JPY rate in GBP per yen', input: { base: 'GBP', rates: { JPY: 0.0052 } }, ok: true },
    { name: 'lower-case code is refused', input: { base: 'gbp' }, ok: false },
    { name: 'a zero rate is refused', input: { rates: { EUR: 0 } }, ok: false },
    { name: 'a negative rate is refused', input: { rates: { EUR: -1 } }, ok: false },
    { name: 'a rate keyed by a non-code is refused', input: { rates: { euro: 0.85 } }, ok: false },
  ];
  test.each(cases)('$name', ({ input, ok }) => {
    expect(currencySettingsSchema.safeParse(input).success).toBe(ok);
  });

  test('every stage names a base currency', () => {
    for (const stage of STAGES) {
      expect(settingsSchema.parse(stageConfig(stage).settings).currency.base).toMatch(/^[A-Z]{3}$/);
    }
  });
});
