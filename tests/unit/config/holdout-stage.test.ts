import { stageConfig, STAGES } from '../../../infra/config/stages';
import { settingsSchema } from '../../../shared/config/settings';

describe('holdout settings per stage', () => {
  test.each(STAGES)('%s: share 0 (nobody held out) and a salt of its own', (stage) => {
    expect(stageConfig(stage).settings.holdout).toEqual({ share: 0, salt: `shoal-${stage}` });
  });

  test.each([
    ['a share over one half', { share: 0.6 }],
    ['a negative share', { share: -0.1 }],
  ])('the settings schema refuses %s', (_name, holdout) => {
    const base = stageConfig('dev').settings;
    expect(settingsSchema.safeParse({ ...base, holdout }).success).toBe(false);
  });
});
