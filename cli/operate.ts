import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Command } from 'commander';
import { Option } from 'commander';
import { documentClient, DynamoProfileStore, DynamoQuarantine } from '../shared/adapters/dynamo';
import { DEFAULT_INBOUND_SOURCE } from '../shared/contracts/inbound';
import { DEFAULT_FEATURE_SETTINGS, refoldAll } from '../shared/customer/update';
import { ModelCache } from '../shared/ports/models';
import { tableAdapters } from '../shared/runtime/wiring';
import { STAGES, stageConfig, type StageName } from '../infra/config/stages';
import { sendToBus, type BackfillEntry, type BackfillResult } from '../shared/backfill';
import { readReplay, type ReplayFormat } from '../local/replay';
import { problemLine, queryGet } from './query-client';

function requireEndpoint(endpoint: string | undefined): string {
  if (!endpoint) throw new Error('give --endpoint (the query API URL) or set SHOAL_API_URL');
  return endpoint;
}

/**
 * Pages through a segment's members (1,000 a page) and writes them: csv (one header, then a line per member) or
 * ndjson (one member object per line, traits included). Returns how many.
 */
export async function exportAudience(
  endpoint: string,
  segment: string,
  format: 'csv' | 'ndjson',
  write: (text: string) => void,
): Promise<number> {
  let cursor: string | null = null;
  let n = 0;
  let first = true;
  do {
    const query: Record<string, string> = { limit: '1000', format: format === 'csv' ? 'csv' : 'json' };
    if (cursor) query.cursor = cursor;
    const answer = await queryGet(endpoint, `/segments/${encodeURIComponent(segment)}/members`, query);
    if (answer.status !== 200) throw new Error(problemLine(answer));
    if (format === 'csv') {
      const lines = answer.body.split('\r\n').filter((l) => l !== '');
      const rows = first ? lines : lines.slice(1);
      if (rows.length) write(`${rows.join('\n')}\n`);
      n += lines.length - 1;
      cursor = answer.headers.get('x-next-cursor');
    } else {
      const page = JSON.parse(answer.body) as { members: unknown[]; nextCursor: string | null };
      for (const m of page.members) write(`${JSON.stringify(m)}\n`);
      n += page.members.length;
      cursor = page.nextCursor;
    }
    first = false;
  } while (cursor);
  return n;
}

/**
 * Operating a deployed stack (credentials and region from the usual AWS environment; AWS_ENDPOINT_URL_* points them
 * at a local stand-in): export an audience, backfill history, read the quarantine.
 */
export function registerOperateCommands(program: Command): void {
  program
    .command('customer')
    .description('one customer from the query API: segment, probabilities, traits, RFM, history and why (JSON)')
    .requiredOption('--id <customerId>', 'the customer id')
    .option(
      '--endpoint <url>',
      'the query API (stack output QueryApiUrl, or the URL `npm start -- --serve` prints)',
      process.env.SHOAL_API_URL,
    )
    .action(async (o: { id: string; endpoint?: string }) => {
      const answer = await queryGet(requireEndpoint(o.endpoint), `/customers/${encodeURIComponent(o.id)}`);
      if (answer.status !== 200) throw new Error(problemLine(answer));
      process.stdout.write(`${JSON.stringify(JSON.parse(answer.body), null, 2)}\n`);
    });

  program
    .command('audience')
    .description(
      'export one segment: with --endpoint, every member with traits from the query API (csv or ndjson); with --table, the customer ids from the bySegment index',
    )
    .requiredOption('--segment <id>', 'segment id, e.g. seg-003')
    .option(
      '--endpoint <url>',
      'the query API (stack output QueryApiUrl, or `npm start -- --serve`)',
      process.env.SHOAL_API_URL,
    )
    .addOption(new Option('--format <format>', 'output with --endpoint').choices(['csv', 'ndjson']).default('csv'))
    .option('--table <name>', 'the Shoal table (stack output TableName): ids only, straight from DynamoDB')
    .action(async (o: { segment: string; endpoint?: string; format: 'csv' | 'ndjson'; table?: string }) => {
      if (o.endpoint) {
        const n = await exportAudience(o.endpoint, o.segment, o.format, (text) => process.stdout.write(text));
        process.stderr.write(`${n} customers in ${o.segment}\n`);
        return;
      }
      if (!o.table) throw new Error('give --endpoint (the query API, with traits) or --table (ids only)');
      const store = new DynamoProfileStore(documentClient(new DynamoDBClient({})), o.table, DEFAULT_FEATURE_SETTINGS);
      let n = 0;
      for await (const id of store.audience(o.segment)) {
        process.stdout.write(`${id}\n`);
        n += 1;
      }
      process.stderr.write(`${n} customers in ${o.segment}\n`);
    });

  program
    .command('refold')
    .description(
      "rebuild every customer's state from its event log and re-evaluate it (after a feature definition changed)",
    )
    .requiredOption('--table <name>', 'the Shoal table (stack output TableName)')
    .addOption(new Option('--stage <stage>', 'the stage whose settings to use').choices([...STAGES]).default('dev'))
    .option('--shard <n>', 'parallel-scan segment to rebuild (with --total-shards)', (v) => Number.parseInt(v, 10), 0)
    .option('--total-shards <n>', 'parallel-scan segments', (v) => Number.parseInt(v, 10), 1)
    .action(async (o: { table: string; stage: StageName; shard: number; totalShards: number }) => {
      const settings = stageConfig(o.stage).settings;
      const table = tableAdapters(new DynamoDBClient({}), o.table, settings);
      const result = await refoldAll(
        { profiles: table.profiles, eventLog: table.eventLog, models: new ModelCache(table.models), settings },
        { now: () => new Date(), shard: o.shard, totalShards: o.totalShards },
      );
      process.stdout.write(`${JSON.stringify({ refolded: result })}\n`);
      process.stderr.write(
        `${result.customers} customers rebuilt from their logs; ${result.segmentChanged} moved segment, ${result.lifecycleChanged} changed stage (queued in their outboxes)\n`,
      );
    });

  program
    .command('quarantine')
    .description("print one day's quarantined records as NDJSON, raw payloads included (needs the operator role)")
    .requiredOption('--table <name>', 'the quarantine table (stack output QuarantineTableName)')
    .requiredOption('--day <yyyy-mm-dd>', 'arrival day (UTC)')
    .action(async (o: { table: string; day: string }) => {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(o.day)) throw new Error(`--day must be yyyy-mm-dd, got ${o.day}`);
      // Retention does not matter for reads; the table's TTL attribute was set when the entries were written.
      const quarantine = new DynamoQuarantine(documentClient(new DynamoDBClient({})), o.table, 1);
      const entries = await quarantine.list(o.day);
      for (const e of entries) process.stdout.write(`${JSON.stringify(e)}\n`);
      const byReason = new Map<string, number>();
      for (const e of entries) byReason.set(e.rejection.reason, (byReason.get(e.rejection.reason) ?? 0) + 1);
      process.stderr.write(
        `${entries.length} quarantined on ${o.day}: ${JSON.stringify(Object.fromEntries(byReason))}\n`,
      );
    });

  program
    .command('backfill')
    .description('send history (NDJSON of inbound events, or the UCI Online Retail CSV) to the Shoal bus')
    .requiredOption('--bus <name>', 'the storefront bus (stack output StorefrontBusName or StorefrontBusArn)')
    .requiredOption('--file <path>', 'history file (.ndjson, .csv, optionally .gz)')
    .addOption(new Option('--format <format>', 'file format').choices(['ndjson', 'online-retail']))
    .option('--source <source>', 'event source the storefront bus accepts', DEFAULT_INBOUND_SOURCE)
    .action(async (o: { bus: string; file: string; format?: ReplayFormat; source: string }) => {
      const rejected = new Map<string, number>();
      async function* entries(): AsyncGenerator<BackfillEntry> {
        for await (const item of readReplay(o.file, o.format)) {
          if (item.kind === 'rejected') rejected.set(item.reason, (rejected.get(item.reason) ?? 0) + 1);
          else {
            yield {
              detailType: item.delivery.detailType,
              detail: item.delivery.detail,
              ...(item.line === undefined ? {} : { line: item.line }),
            };
          }
        }
      }
      let result: BackfillResult = { sent: 0, failed: [], tooLarge: [] };
      let error: string | undefined;
      try {
        result = await sendToBus(new EventBridgeClient({}), o.bus, o.source, entries(), {
          onProgress: (sent) => {
            if (sent % 10_000 < 10) process.stderr.write(`sent ${sent}\n`);
          },
        });
      } catch (err) {
        // Reading the file failed part-way (sendToBus itself never throws): say so, with what was sent.
        error = err instanceof Error ? err.message : String(err);
      }
      // The summary is always printed; skipped lines are the file's own rejections, not failures of the send.
      const summary = { ...result, skipped: Object.fromEntries(rejected), ...(error ? { error } : {}) };
      for (const t of result.tooLarge) {
        process.stderr.write(`line ${t.line}: event of ${t.bytes} bytes exceeds the 256 KiB PutEvents limit\n`);
      }
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      if (error || result.failed.length || result.tooLarge.length) process.exitCode = 2;
    });
}
