import { closeSync, fstatSync, openSync, readSync, writeFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import { allocateKMeansInput, distinctRowCount, kmeansParallel } from '../shared/segmentation/kmeans';

interface KmeansCliOptions {
  input: string;
  d: number;
  k: number;
  seed: number;
  maxIter: number;
  tol: number;
  nInit: number;
  threads?: number;
  labels?: string;
}

function intArg(min: number): (value: string) => number {
  return (value) => {
    const v = Number(value);
    if (!/^[+-]?\d+$/.test(value.trim()) || !Number.isSafeInteger(v) || v < min) {
      throw new InvalidArgumentError(`expected an integer >= ${min}`);
    }
    return v;
  };
}

function tolArg(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || v < 0) throw new InvalidArgumentError('expected a number >= 0');
  return v;
}

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** Reads a raw little-endian float32 N×D matrix straight into the engine's shared input memory (no copy later). */
export function readFloat32Matrix(path: string, d: number): { data: Float32Array; n: number } {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const rowBytes = 4 * d;
    if (size === 0) throw new Error(`${path}: file is empty`);
    if (size % rowBytes !== 0) {
      throw new Error(
        `${path}: size ${size} bytes is not a multiple of 4*D = ${rowBytes} bytes (raw little-endian float32, ${d} columns per row)`,
      );
    }
    const n = size / rowBytes;
    const data = allocateKMeansInput(n, d);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, size);
    const chunk = 1 << 26;
    for (let off = 0; off < size;) {
      const got = readSync(fd, bytes, off, Math.min(chunk, size - off), off);
      if (got <= 0) throw new Error(`${path}: unexpected end of file at byte ${off}`);
      off += got;
    }
    if (!LITTLE_ENDIAN_HOST) {
      const view = new DataView(data.buffer, data.byteOffset, size);
      for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(i * 4, true);
    }
    return { data, n };
  } finally {
    closeSync(fd);
  }
}

function writeInt32LE(path: string, values: Int32Array): void {
  const out = Buffer.alloc(values.length * 4);
  if (LITTLE_ENDIAN_HOST) out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  else for (let i = 0; i < values.length; i++) out.writeInt32LE(values[i]!, i * 4);
  writeFileSync(path, out);
}

export function registerKmeansCommand(program: Command): void {
  program
    .command('kmeans')
    .description(
      'k-means (k-means++ seeding, Hamerly-accelerated Lloyd) on a raw little-endian float32 N×D matrix; ' +
        'prints one JSON line {"n","d","k","inertia","iterations","fitSeconds"}',
    )
    .requiredOption('--input <file>', 'raw little-endian float32 matrix, row-major; N = file size / (4*D)')
    .requiredOption('--d <D>', 'number of columns', intArg(1))
    .requiredOption('--k <K>', 'number of clusters', intArg(1))
    .option('--seed <S>', 'random seed', intArg(0), 0)
    .option('--max-iter <N>', 'maximum Lloyd iterations per initialisation', intArg(1), 300)
    .option(
      '--tol <T>',
      'tolerance relative to the mean feature variance, on the total squared centroid shift',
      tolArg,
      1e-4,
    )
    .option('--n-init <N>', 'number of k-means++ initialisations (best inertia kept)', intArg(1), 1)
    .option('--threads <T>', 'threads to use (default: available parallelism)', intArg(1))
    .option('--labels <file>', 'write the labels as int32 little-endian')
    .action(async (o: KmeansCliOptions) => {
      const { data, n } = readFloat32Matrix(o.input, o.d);
      if (o.k > n) throw new Error(`--k (${o.k}) must not exceed the number of rows N (${n})`);
      const distinct = distinctRowCount(data, n, o.d, o.k);
      if (distinct < o.k) {
        // Identical rows always share a label, so at most `distinct` clusters can be non-empty.
        process.stderr.write(
          `warning: only ${distinct} distinct row(s) for --k ${o.k}: at most ${distinct} clusters will be non-empty\n`,
        );
      }
      const t0 = process.hrtime.bigint();
      const res = await kmeansParallel(data, n, o.d, {
        k: o.k,
        seed: o.seed,
        maxIter: o.maxIter,
        tol: o.tol,
        nInit: o.nInit,
        threads: o.threads,
      });
      const fitSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (o.labels) writeInt32LE(o.labels, res.labels);
      process.stdout.write(
        `${JSON.stringify({ n, d: o.d, k: o.k, inertia: res.inertia, iterations: res.iterations, fitSeconds })}\n`,
      );
    });
}
