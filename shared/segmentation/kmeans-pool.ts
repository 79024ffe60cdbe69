import { Worker } from 'node:worker_threads';
import { WORKER_SOURCE, type KState, type KStateDesc, type KernelModule, type KernelOp } from './kmeans-kernel';

/** Runs one kernel operation over all blocks on the calling thread. */
export function runOpSync(kernel: KernelModule, S: KState, op: KernelOp): void {
  const f = kernel.ops[op];
  for (let b = 0; b < S.nb; b++) f(S, b);
}

interface Pending {
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * `threads - 1` eval'd workers plus the calling thread pull blocks from a shared atomic counter (work stealing).
 * All state lives in SharedArrayBuffers described by `desc`; messages carry only the operation name.
 */
export class KernelPool {
  private readonly workers: Worker[] = [];
  private readonly pending: (Pending | null)[] = [];
  private failure: Error | null = null;

  constructor(
    nWorkers: number,
    desc: KStateDesc,
    private readonly kernel: KernelModule,
    private readonly S: KState,
  ) {
    for (let w = 0; w < nWorkers; w++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      this.pending.push(null);
      worker.on('message', (m: { type: string; message?: string }) => {
        const p = this.pending[w];
        this.pending[w] = null;
        const error = m.type === 'done' ? null : new Error(`k-means worker failed: ${m.message ?? 'unknown error'}`);
        if (error) this.failure ??= error;
        if (!p) return;
        if (error) p.reject(error);
        else p.resolve();
      });
      const fail = (e: Error): void => {
        this.failure ??= e;
        const p = this.pending[w];
        this.pending[w] = null;
        p?.reject(e);
      };
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (code !== 0) fail(new Error(`k-means worker exited with code ${code}`));
      });
      worker.postMessage({ type: 'init', desc });
      this.workers.push(worker);
    }
  }

  async run(op: KernelOp): Promise<void> {
    if (this.failure) throw this.failure;
    const S = this.S;
    Atomics.store(S.counter, 0, 0);
    const done = this.workers.map(
      (worker, w) =>
        new Promise<void>((resolve, reject) => {
          this.pending[w] = { resolve, reject };
          worker.postMessage({ type: 'run', op });
        }),
    );
    const f = this.kernel.ops[op];
    for (;;) {
      const b = Atomics.add(S.counter, 0, 1);
      if (b >= S.nb) break;
      f(S, b);
    }
    await Promise.all(done);
  }

  async close(): Promise<void> {
    const ws = this.workers.splice(0);
    await Promise.all(ws.map((w) => w.terminate()));
  }
}
