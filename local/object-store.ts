import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { ObjectStore } from '../shared/ports/stores';

/**
 * The local stand-in for the run bucket: the same ObjectStore port as S3ObjectStore, held in memory or, with `dir`,
 * in files under that directory (key "runs/r1/shards/0.json" → <dir>/runs/r1/shards/0.json), so reports can be
 * opened after `npm start`. Writes are atomic (temp file + rename), as S3 PUTs are.
 */
export class LocalObjectStore implements ObjectStore {
  private readonly memory = new Map<string, { body: Uint8Array; contentType: string }>();

  constructor(private readonly options: { dir?: string } = {}) {}

  /** Where a key lives on disk, or null for an in-memory store. */
  pathOf(key: string): string | null {
    if (!this.options.dir) return null;
    const root = path.resolve(this.options.dir);
    const file = path.resolve(root, ...checkKey(key).split('/'));
    if (!file.startsWith(root + path.sep)) throw new Error(`object key escapes the store: ${key}`);
    return file;
  }

  async put(key: string, body: Uint8Array | string, contentType = 'application/octet-stream'): Promise<void> {
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : new Uint8Array(body);
    const file = this.pathOf(key);
    if (!file) {
      this.memory.set(checkKey(key), { body: bytes, contentType });
      return;
    }
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  }

  async get(key: string): Promise<Uint8Array | null> {
    const file = this.pathOf(key);
    if (!file) {
      const item = this.memory.get(checkKey(key));
      return item ? new Uint8Array(item.body) : null;
    }
    try {
      return new Uint8Array(await readFile(file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /** Keys under a prefix, sorted (a test and report helper; S3 would use ListObjectsV2). */
  async list(prefix = ''): Promise<string[]> {
    if (!this.options.dir) return [...this.memory.keys()].filter((k) => k.startsWith(prefix)).sort();
    const root = path.resolve(this.options.dir);
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else if (!e.name.endsWith('.tmp')) out.push(path.relative(root, full).split(path.sep).join('/'));
      }
    };
    await walk(root);
    return out.filter((k) => k.startsWith(prefix)).sort();
  }

  /** Reads a key as UTF-8 text (null when absent). */
  async getText(key: string): Promise<string | null> {
    const bytes = await this.get(key);
    return bytes ? new TextDecoder().decode(bytes) : null;
  }
}

function checkKey(key: string): string {
  if (
    key === '' ||
    key.startsWith('/') ||
    key.split('/').some((part) => part === '' || part === '.' || part === '..')
  ) {
    throw new Error(`invalid object key: ${JSON.stringify(key)}`);
  }
  return key;
}
