import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { customerResponseSchema, segmentsResponseSchema } from '../../shared/contracts/query';

const ROOT = resolve(__dirname, '..', '..');

describe('npm start -- --serve (end to end, over real HTTP)', () => {
  test('runs, keeps the stack up, prints the URL and a sample curl, answers, and stops on SIGINT', async () => {
    const out = mkdtempSync(join(tmpdir(), 'shoal-serve-'));
    const child = spawn(
      join(ROOT, 'node_modules', '.bin', 'tsx'),
      // 9 days: the placement gate waits 7 days (and 8 events) before a customer's first segment.
      ['local/start.ts', '--customers', '150', '--days', '9', '--serve', '--out', out],
      { cwd: ROOT },
    );
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const closed = new Promise<number | null>((r) => child.on('close', r));
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        const timer = setInterval(() => {
          const m = /query API: (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
          if (m) {
            clearInterval(timer);
            resolveUrl(m[1]!);
          }
        }, 200);
        void closed.then(() => reject(new Error(`exited before serving:\n${stdout}`)));
      });
      const curl = /curl -s (http:\/\/127\.0\.0\.1:\d+\/customers\/\S+)/.exec(stdout)?.[1];
      expect(curl).toBeDefined();
      const customer = await fetch(curl!);
      expect(customer.status).toBe(200);
      const body = customerResponseSchema.parse(await customer.json());
      expect(body.segment).not.toBeNull(); // a model was published and the sample customer is in a segment
      const segments = segmentsResponseSchema.parse(await (await fetch(`${url}/segments`)).json());
      expect(segments.segments.map((s) => s.segmentId)).toContain(body.segment!.segmentId);
    } finally {
      child.kill('SIGINT');
    }
    expect(await closed).toBe(0);
  }, 240_000);
});
