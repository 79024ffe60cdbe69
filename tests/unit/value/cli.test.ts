import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { registerValueCommands } from '../../../cli/value';
import { CDNOW_BGNBD_PARAMS, formatSummaryCsv, simulateBgNbd } from '../../../shared/value';
import { createRng } from '../../../shared/util/rng';

const DATA_DIR = process.env.SHOAL_DATA_DIR ?? path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'data');
const SAMPLE = path.join(DATA_DIR, 'CDNOW_sample.txt');
if (!existsSync(SAMPLE)) console.warn(`[value tests] ${SAMPLE} not found: SKIPPING the CLI summarize check on CDNOW`);

async function run(args: string[]): Promise<string> {
  const program = new Command('shoal').exitOverride();
  registerValueCommands(program);
  let out = '';
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    write.mockRestore();
    err.mockRestore();
  }
  return out;
}

describe('shoal value CLI', () => {
  let dir: string;
  let withSpend: string;
  let noSpend: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'shoal-value-'));
    const rows = simulateBgNbd(CDNOW_BGNBD_PARAMS, 1500, createRng(21), { spend: { p: 6, q: 4, v: 15 } }).map(
      (r, i) => ({ customerId: String(i + 1), ...r }),
    );
    withSpend = path.join(dir, 'with.csv');
    noSpend = path.join(dir, 'plain.csv');
    writeFileSync(withSpend, formatSummaryCsv(rows, true));
    writeFileSync(noSpend, formatSummaryCsv(rows));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('fit prints the BG/NBD (and with --spend the Gamma-Gamma) as JSON', async () => {
    const out = JSON.parse(await run(['value', 'fit', '--summary', withSpend, '--spend']));
    expect(out).toMatchObject({
      converged: true,
      customers: 1500,
      bgnbd: { source: 'fit' },
      gammaGamma: { source: 'fit' },
    });
    for (const k of ['r', 'alpha', 'a', 'b']) expect(out.bgnbd[k]).toBeGreaterThan(0);
    expect(out.logLikelihood).toBeLessThan(0);
    const plain = JSON.parse(await run(['value', 'fit', '--summary', noSpend]));
    expect(plain.gammaGamma).toBeUndefined();
    expect(plain.bgnbd.r).toBeCloseTo(out.bgnbd.r, 2);
    await expect(run(['value', 'fit', '--summary', noSpend, '--spend'])).rejects.toThrow(/zbar/);
  });

  test('predict writes one CSV row per customer; spend columns empty without zbar', async () => {
    const lines = (
      await run(['value', 'predict', '--summary', withSpend, '--t', '39', '--horizon', '52', '--discount', '0.002'])
    )
      .trim()
      .split('\n');
    expect(lines[0]).toBe('ID,pAlive,expectedPurchases,expectedSpend,clv');
    expect(lines).toHaveLength(1501);
    const cells = (lines[1] as string).split(',');
    expect(cells).toHaveLength(5);
    cells.slice(1).forEach((c) => expect(Number.isFinite(Number(c)) && c !== '').toBe(true));
    const plain = (await run(['value', 'predict', '--summary', noSpend, '--t', '39'])).trim().split('\n');
    expect(plain[1]).toMatch(/^1,[\d.]+,[\d.]+,,$/);
  });

  (existsSync(SAMPLE) ? test : test.skip)('summarize reproduces the CDNOW calibration summary', async () => {
    const out = await run([
      'value',
      'summarize',
      '--transactions',
      SAMPLE,
      '--format',
      'cdnow',
      '--calibration-end',
      '1997-09-30',
    ]);
    const lines = out.trim().split('\n');
    expect(lines.slice(0, 3)).toEqual(['ID,frequency,recency,T', '1,2,30.43,38.86', '2,1,1.71,38.86']);
    expect(lines).toHaveLength(2358);
  });

  test('rejects bad arguments', async () => {
    await expect(run(['value', 'predict', '--summary', noSpend, '--t', '-3'])).rejects.toThrow();
    await expect(
      run(['value', 'summarize', '--transactions', noSpend, '--format', 'xml', '--calibration-end', '2020-01-01']),
    ).rejects.toThrow(/format/);
  });
});
