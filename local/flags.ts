/**
 * `npm start` flag parsers: each checks its value as commander parses it, before anything starts, and a bad value
 * is one line naming the flag and the rule (commander's `error: option '…' argument '…' is invalid. …`), exit 1, no
 * stack trace.
 */
import { existsSync, statSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';

/** An integer in [min, max] written in decimal digits ("10", not "1e1", "10abc" or "0x0a"). */
export function intFlag(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}.`);
    const n = Number.parseInt(value, 10);
    if (n < min || n > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}.`);
    return n;
  };
}

/** A path to a readable file that exists. */
export function fileFlag(value: string): string {
  if (!existsSync(value) || !statSync(value).isFile()) throw new InvalidArgumentError('no such file.');
  return value;
}

/** An IANA time zone name that this Node.js knows (`Europe/London`, `America/New_York`, `UTC`). */
export function timeZoneFlag(value: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return value;
  } catch {
    throw new InvalidArgumentError('must be an IANA time zone, e.g. Europe/London.');
  }
}

/** Share of rejected lines from which a replay warns. */
export const REPLAY_WARN_SHARE = 0.99;

/**
 * What a replay's rejections mean. `lines`: lines read from the file; `rejected`: lines rejected, whether by the
 * reader (not JSON, not a row) or by validation (quarantined). All rejected: `fail` (the file is probably in another
 * format); at least REPLAY_WARN_SHARE: `warn`; else `ok`. An empty file is a `fail` too: nothing was replayed.
 */
export function replayVerdict(lines: number, rejected: number): { level: 'ok' | 'warn' | 'fail'; message: string } {
  if (lines === 0) return { level: 'fail', message: 'replay: the file has no lines' };
  const share = rejected / lines;
  const what = `${rejected} of ${lines} lines rejected (${(100 * share).toFixed(1)}%)`;
  if (rejected >= lines)
    return {
      level: 'fail',
      message: `replay: every line was rejected (${what}); is --format right? see out/rejects.ndjson`,
    };
  if (share >= REPLAY_WARN_SHARE) return { level: 'warn', message: `replay: warning: ${what}; see out/rejects.ndjson` };
  return { level: 'ok', message: `replay: ${what}` };
}
