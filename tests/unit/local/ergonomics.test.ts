import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { intFlag, replayVerdict } from '../../../local/flags';
import { makeEvent } from '../../support/factories';

const ROOT = resolve(__dirname, '..', '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

function run(args: string[], env: Record<string, string> = {}) {
  const res = spawnSync(TSX, args, { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr.trim() };
}

describe('npm start validates its flags first: one line, no stack trace, nothing started (issue #13 §5)', () => {
  test.each([
    [
      '--customers 0',
      ['--customers', '0'],
      "error: option '--customers <n>' argument '0' is invalid. must be a whole number from 1 to 1000000.",
    ],
    [
      '--days -1',
      ['--days', '-1'],
      "error: option '--days <n>' argument '-1' is invalid. must be a whole number from 1 to 3650.",
    ],
    [
      '--recluster-every 0',
      ['--recluster-every', '0'],
      "error: option '--recluster-every <nights>' argument '0' is invalid. must be a whole number from 1 to 365.",
    ],
    [
      '--half-life-days 0',
      ['--half-life-days', '0'],
      "error: option '--half-life-days <days>' argument '0' is invalid. must be a whole number from 1 to 365.",
    ],
    [
      '--min-events -1',
      ['--min-events', '-1'],
      "error: option '--min-events <n>' argument '-1' is invalid. must be a whole number from 0 to 1000.",
    ],
    [
      '--customers 1e3',
      ['--customers', '1e3'],
      "error: option '--customers <n>' argument '1e3' is invalid. must be a whole number from 1 to 1000000.",
    ],
    [
      '--replay of a missing file',
      ['--replay', 'no/such/file.ndjson'],
      "error: option '--replay <file>' argument 'no/such/file.ndjson' is invalid. no such file.",
    ],
  ])('%s', (_name, args, line) => {
    const res = run(['local/start.ts', ...args]);
    expect(res.status).toBe(1);
    expect(res.stderr).toBe(line);
    expect(res.stdout).toBe(''); // nothing started: no progress, no table
  });

  test('the integer parser accepts a plain decimal in range', () => {
    expect(intFlag(1, 10)('7')).toBe(7);
    expect(() => intFlag(1, 10)('11')).toThrow(InvalidArgumentError);
  });
});

describe('cdk synth with an unknown stage prints one line naming the valid stages', () => {
  test('-c stage=qa', () => {
    const out = mkdtempSync(join(tmpdir(), 'shoal-synth-'));
    const res = run(['infra/app.ts'], { CDK_CONTEXT_JSON: JSON.stringify({ stage: 'qa' }), CDK_OUTDIR: out });
    expect(res.status).toBe(1);
    expect(res.stderr).toBe('Unknown stage "qa": use one of dev, staging, prod (cdk synth -c stage=dev)');
  });
});

describe('replay verdict: warn at 99 % rejected, fail when every line is', () => {
  test.each([
    ['every line rejected (a CSV passed as ndjson)', 120, 120, 'fail'],
    ['an empty file', 0, 0, 'fail'],
    ['99 % rejected', 100, 99, 'warn'],
    ['just under 99 %', 1000, 989, 'ok'],
    ['a few rejects', 1000, 3, 'ok'],
  ] as const)('%s', (_name, lines, rejected, level) => {
    expect(replayVerdict(lines, rejected).level).toBe(level);
  });
});

describe('a replay that rejects every line exits non-zero (end to end)', () => {
  test('a CSV passed as --format ndjson', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoal-replay-'));
    const file = join(dir, 'retail.csv');
    writeFileSync(
      file,
      'InvoiceNo,StockCode,Description\n536365,85123A,WHITE HANGING HEART\n536366,22633,HAND WARMER\n',
    );
    const res = run(['local/start.ts', '--replay', file, '--format', 'ndjson', '--out', join(dir, 'out')]);
    expect(res.status).toBe(2);
    expect(res.stderr.split('\n').pop()).toMatch(
      /^replay: every line was rejected \(3 of 3 lines rejected \(100\.0%\)\)/,
    );
    // out/rejects.ndjson: each line with its reason, no raw payload.
    const rejects = readFileSync(join(dir, 'out', 'rejects.ndjson'), 'utf8');
    expect(
      rejects
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([1, 2, 3].map((line) => ({ stage: 'reader', reason: 'invalid_json', line, paths: [] })));
    expect(rejects).not.toContain('HEART');
  }, 120_000);
});

describe('out/rejects.ndjson records validation rejects with their zod issue paths and no raw payload', () => {
  test('an order with a negative quantity among good events', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoal-rejects-'));
    const file = join(dir, 'events.ndjson');
    const good = makeEvent('order.placed', { customerId: 'c-good', occurredAt: '2026-11-01T10:00:00.000Z' });
    const bad = makeEvent('order.placed', { customerId: 'c-bad', occurredAt: '2026-11-01T11:00:00.000Z' });
    const badDetail = {
      ...bad.detail,
      items: [{ sku: 'S', title: 'Secret title', category: 'c', price: 1, quantity: -3 }],
    };
    const lines = [
      { 'detail-type': good.type, detail: good.detail },
      { 'detail-type': bad.type, detail: badDetail },
    ];
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const res = run(['local/start.ts', '--replay', file, '--format', 'ndjson', '--out', join(dir, 'out')]);
    expect(res.status).toBe(0);
    const rejects = readFileSync(join(dir, 'out', 'rejects.ndjson'), 'utf8');
    const parsed = rejects
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed).toHaveLength(1);
    expect(parsed[0]).toMatchObject({ stage: 'validation', eventId: bad.detail.eventId, detailType: 'order.placed' });
    expect(parsed[0]!.paths).toEqual(['items.0.quantity']);
    expect(rejects).not.toContain('Secret title');
  }, 120_000);
});
