import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Command } from 'commander';
import { Option } from 'commander';
import { documentClient, DynamoProfileStore } from '../shared/adapters/dynamo';
import { DEFAULT_INBOUND_SOURCE } from '../shared/contracts/inbound';
import { DEFAULT_FEATURE_SETTINGS } from '../shared/customer/update';
import { sendToBus, type BackfillEntry } from '../shared/backfill';
import { readReplay, type ReplayFormat } from '../local/replay';

/**
 * Operating a deployed stack (credentials and region from the usual AWS environment; AWS_ENDPOINT_URL_* points them
 * at a local stand-in): export an audience, backfill history.
 */
export function registerOperateCommands(program: Command): void {
  program
    .command('audience')
    .description('print the customer ids of one segment, one per line (the bySegment index)')
    .requiredOption('--table <name>', 'the Shoal table (stack output TableName)')
    .requiredOption('--segment <id>', 'segment id, e.g. seg-003')
    .action(async (o: { table: string; segment: string }) => {
      const store = new DynamoProfileStore(documentClient(new DynamoDBClient({})), o.table, DEFAULT_FEATURE_SETTINGS);
      let n = 0;
      for await (const id of store.audience(o.segment)) {
        process.stdout.write(`${id}\n`);
        n += 1;
      }
      process.stderr.write(`${n} customers in ${o.segment}\n`);
    });

  program
    .command('backfill')
    .description('send history (NDJSON of inbound events, or the UCI Online Retail CSV) to the Shoal bus')
    .requiredOption('--bus <name>', 'the Shoal bus (stack output EventBusName)')
    .requiredOption('--file <path>', 'history file (.ndjson, .csv, optionally .gz)')
    .addOption(new Option('--format <format>', 'file format').choices(['ndjson', 'online-retail']))
    .option('--source <source>', 'event source the bus rule expects', DEFAULT_INBOUND_SOURCE)
    .action(async (o: { bus: string; file: string; format?: ReplayFormat; source: string }) => {
      const rejected = new Map<string, number>();
      async function* entries(): AsyncGenerator<BackfillEntry> {
        for await (const item of readReplay(o.file, o.format)) {
          if (item.kind === 'rejected') rejected.set(item.reason, (rejected.get(item.reason) ?? 0) + 1);
          else yield { detailType: item.delivery.detailType, detail: item.delivery.detail };
        }
      }
      const result = await sendToBus(new EventBridgeClient({}), o.bus, o.source, entries(), {
        onProgress: (sent) => {
          if (sent % 10_000 < 10) process.stderr.write(`sent ${sent}\n`);
        },
      });
      process.stdout.write(
        `${JSON.stringify({ sent: result.sent, failed: result.failed, skipped: Object.fromEntries(rejected) })}\n`,
      );
      if (result.failed.length) process.exitCode = 2;
    });
}
