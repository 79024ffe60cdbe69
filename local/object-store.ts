import { mkdir, readFile, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { ObjectStore } from '../shared/ports/stores';

/**
 * The local stand-in for the run bucket: the same ObjectStore port as S3ObjectStore, held in memory or, with `dir`,
 * in files under that directory (key "runs/r1/shards/0.json" → <dir>/runs/r1/shards/0.json), so reports can be
 * opened after `npm start`. Writes are atomic (temp file + rename), as S3 PUTs are.
 */
/** An S3 lifecycle expiration rule: objects under `prefix` expire `days` days after they were written. */
export interface ExpirationRule {
  prefix: string;
  days: number;
}

export class LocalObjectStore implements ObjectStore {
  private readonly memory = new Map<string, { body: Uint8Array; contentType: string; writtenAt: number }>();
  private readonly clock: () => number;

  /** `clock` stamps each write (the simulated clock of a local run); on disk the stamp is the file's mtime. */
  constructor(private readonly options: { dir?: string; clock?: () => number } = {}) {
    this.clock = options.clock ?? Date.now;
  }

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
    const writtenAt = this.clock();
    if (!file) {
      this.memory.set(checkKey(key), { body: bytes, contentType, writtenAt });
      return;
    }
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, bytes);
    await utimes(tmp, writtenAt / 1000, writtenAt / 1000);
    await rename(tmp, file);
  }

  /**
   * Applies S3 lifecycle expiration as of `now`: deletes every object under a rule's prefix written at least
   * `days` × 24 h before `now` (the bucket's rules: infra/constructs/recluster.ts, RUN_OBJECT_RETENTION). The first
   * matching rule decides. Returns the deleted keys. AWS expires asynchronously, within about a day of the bound;
   * this applies it exactly.
   */
  async expire(rules: readonly ExpirationRule[], now: number): Promise<string[]> {
    const deleted: string[] = [];
    for (const key of await this.list()) {
      const rule = rules.find((r) => key.startsWith(r.prefix));
      if (!rule) continue;
      const file = this.pathOf(key);
      const writtenAt = file ? (await stat(file)).mtimeMs : this.memory.get(key)!.writtenAt;
      if (now - writtenAt < rule.days * 86_400_000) continue;
      if (file) await rm(file, { force: true });
      else this.memory.delete(key);
      deleted.push(key);
    }
    return deleted;
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
