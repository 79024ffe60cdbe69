import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Command } from 'commander';
import { runCli } from '../../support/cli';
import { registerValueCommands } from '../../../cli/value';

const DATA_DIR = process.env.SHOAL_DATA_DIR ?? path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'data');
const SAMPLE = path.join(DATA_DIR, 'CDNOW_sample.txt');
const needData = existsSync(SAMPLE) || process.env.CI === 'true' ? test : test.skip;
if (!existsSync(SAMPLE) && process.env.CI !== 'true') console.warn(`[value cli] ${SAMPLE} missing: SKIPPING evaluate`);

const run = (args: string[]) => runCli(registerValueCommands, args);

describe('shoal value with refunds, gzip and evaluate (issue #9 A3, E15)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'shoal-value-refunds-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('A3: summarize on the issue’s CSV (gzipped) prints customer 2 with x = 0 and no negative zbar', async () => {
    const file = path.join(dir, 'a3.csv.gz');
    writeFileSync(
      file,
      gzipSync(
        'customerId,date,value\n1,2025-01-01,50\n1,2025-02-01,30\n1,2025-02-10,-30\n2,2025-01-05,20\n2,2025-01-20,-20\n',
      ),
    );
    const { out, err } = await run([
      'value',
      'summarize',
      '--transactions',
      file,
      '--format',
      'csv',
      '--calibration-end',
      '2025-03-31',
      '--with-spend',
    ]);
    expect(out).toBe('ID,x,t_x,T,zbar\n1,0,0.00,12.71,0.00\n2,0,0.00,12.14,0.00\n');
    expect(err).toContain('2 refund row(s): 50.00 netted against purchase days');
    expect(err).toContain('1 customer(s) fully refunded (x = 0)');
  });

  test('summarize reports bad rows by line number', async () => {
    const file = path.join(dir, 'bad.csv');
    writeFileSync(file, 'customerId,date,value\n1,2025-01-01,50\n2,01/02/2025,5\n');
    await expect(
      run(['value', 'summarize', '--transactions', file, '--format', 'csv', '--calibration-end', '2025-03-31']),
    ).rejects.toThrow(`${file}: 1 bad row(s): line 3: bad date '01/02/2025'`);
  });

  test('fit --spend says how many rows it dropped and why', async () => {
    const file = path.join(dir, 'summary.csv');
    const rows = ['ID,x,t_x,T,zbar'];
    for (let i = 0; i < 40; i++) rows.push(`${i},${i % 4},${i % 4 === 0 ? 0 : 5 + (i % 7)},20,${10 + (i % 5)}`);
    rows.push('99,2,5,20,0', '100,1,3,20,0');
    writeFileSync(file, `${rows.join('\n')}\n`);
    const { out, err } = await run(['value', 'fit', '--summary', file, '--spend']);
    expect(JSON.parse(out).droppedFromSpendFit).toEqual({ rows: 12, oneTimeBuyers: 10, nonPositiveSpend: 2 });
    expect(err).toContain('fitted on 30 of 42 rows; dropped 12: 10 one-time buyer(s)');
  });

  needData('E15: evaluate prints the frequency table, totals, MAE and correlation on the CDNOW sample', async () => {
    const { out } = await run([
      'value',
      'evaluate',
      '--transactions',
      SAMPLE,
      '--calibration-end',
      '1997-09-30',
      '--holdout-end',
      '1998-06-30',
    ]);
    expect(out).toContain('        0       1411      317.60       334\n');
    expect(out).toContain('       7+         64      394.06       407\n');
    expect(out).toContain('    total       2357     1653.41      1882\n');
    expect(out).toContain('mean absolute error per customer: 0.7855\n');
    expect(out).toContain('correlation (predicted vs actual, per customer): 0.6256\n');
  });

  test('evaluate --help names the accepted CSV columns', async () => {
    const program = new Command('shoal').exitOverride();
    registerValueCommands(program);
    const evaluate = program.commands.find((c) => c.name() === 'value')!.commands.find((c) => c.name() === 'evaluate')!;
    expect(evaluate.helpInformation()).toMatch(/customerid\|customer_id\|customer\|cust\|id/);
  });
});
