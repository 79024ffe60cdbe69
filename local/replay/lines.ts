import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

/**
 * Streams the lines of a text file (gunzipped when the path ends in `.gz`), without their line endings (LF or CRLF)
 * and with a leading UTF-8 BOM removed. Breaking out of the loop closes the file.
 */
export async function* readLines(path: string): AsyncGenerator<string> {
  const file = createReadStream(path);
  let input: Readable = file;
  if (path.endsWith('.gz')) {
    const gunzip = createGunzip();
    file.on('error', (err) => gunzip.destroy(err));
    input = file.pipe(gunzip);
  }
  const rl = createInterface({ input, crlfDelay: Infinity });
  let first = true;
  try {
    for await (const line of rl) {
      if (first) {
        first = false;
        yield line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
      } else yield line;
    }
  } finally {
    rl.close();
    input.destroy();
    file.destroy();
  }
}
