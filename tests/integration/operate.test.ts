import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeHandler } from '../../functions/ingest/app';
import { DynamoQuarantine } from '../../shared/adapters/dynamo';
import { LOCAL_BUS_NAME, startEmbeddedStack, type EmbeddedStack } from '../../local/stack';
import { sendToBus } from '../../shared/backfill';
import type { InboundEvent } from '../../shared/contracts/inbound';
import { makeEvent } from '../support/factories';
import { lambdaContext } from '../support/lambda';
import { modelFromPrototypes } from '../support/model';
import { testSettings } from '../support/settings';
import { expectSameFeatures } from '../support/features';
import { foldEvents } from '../../shared/customer/fold';
import { FEATURE_VERSION, emptyState, featuresOf } from '../../shared/customer/state';
import { featureSettingsOf } from '../../shared/customer/update';
import { stageConfig } from '../../infra/config/stages';

const run = promisify(execFile);
const settings = testSettings();
const now = new Date('2026-11-10T12:00:00Z');
let stack: EmbeddedStack;

const gardener = (customerId: string, n: number): InboundEvent[] => [
  makeEvent('product.viewed', {
    customerId,
    eventId: `${customerId}-v${n}`,
    title: 'Ceramic plant pot',
    category: 'garden',
    occurredAt: '2026-11-02T08:00:00Z',
  }),
  makeEvent('search.performed', {
    customerId,
    eventId: `${customerId}-s${n}`,
    query: 'rose seeds',
    occurredAt: '2026-11-02T08:05:00Z',
  }),
];
const parent = (customerId: string, n: number): InboundEvent[] => [
  makeEvent('search.performed', {
    customerId,
    eventId: `${customerId}-s${n}`,
    query: 'baby stroller',
    channel: 'app',
    occurredAt: '2026-11-03T10:00:00Z',
  }),
  makeEvent('cart.updated', {
    customerId,
    eventId: `${customerId}-c${n}`,
    title: 'Baby stroller',
    category: 'baby',
    occurredAt: '2026-11-03T10:05:00Z',
  }),
];

describe('operating tools: backfill to the bus, audience export', () => {
  beforeAll(async () => {
    stack = await startEmbeddedStack({ settings, clock: () => now });
    await stack.modelStore.putVersion(
      modelFromPrototypes(
        [
          { segmentId: 'seg-001', name: 'Keen gardeners', events: gardener('proto-g', 0) },
          { segmentId: 'seg-002', name: 'New parents', events: parent('proto-b', 0) },
        ],
        settings,
        now,
      ),
    );
    await stack.modelStore.activate(1, null);
  });
  afterAll(() => stack.close());

  test('a backfill goes through the bus rule and the queue to the ingest path; the audience lists each segment', async () => {
    const history = [...gardener('g1', 1), ...gardener('g2', 1), ...parent('b1', 1), ...gardener('g3', 1)];
    const entries = [
      ...history.map((e) => ({ detailType: e.type, detail: e.detail })),
      { detailType: 'order.teleported', detail: { eventId: 'x', customerId: 'g1' } },
    ];

    const result = await sendToBus(stack.clients.eventbridge, LOCAL_BUS_NAME, settings.source, entries);
    await stack.queue.drain((event) => makeHandler(stack.ingestDeps())(event, lambdaContext));

    expect(result).toEqual({ sent: entries.length, failed: [], tooLarge: [] });
    // the catch-all rule forwards every storefront event: the unknown type reaches the queue and is quarantined
    expect(stack.queue.stats.sent).toBe(entries.length);
    expect(stack.bus.failedDeliveries).toEqual([]);
    const profiles = stack.ingestDeps().profiles;
    const audience = async (id: string) => {
      const ids: string[] = [];
      for await (const c of profiles.audience(id)) ids.push(c);
      return ids.sort();
    };
    expect(await audience('seg-001')).toEqual(['g1', 'g2', 'g3']);
    const quarantined = await stack.ingestDeps().quarantine.list(now.toISOString().slice(0, 10));
    expect(quarantined.map((q) => [q.rejection.detailType, q.rejection.reason])).toContainEqual([
      'order.teleported',
      'unknown_detail_type',
    ]);
    expect(await audience('seg-002')).toEqual(['b1']);
    expect(await audience('seg-404')).toEqual([]);
  });

  test('the CLI exports an audience and backfills a file through the real SDK clients', async () => {
    const env = {
      ...process.env,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: stack.dynamo.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: stack.busServer.endpoint,
    };
    const dir = mkdtempSync(join(tmpdir(), 'shoal-operate-'));
    const file = join(dir, 'history.ndjson');
    writeFileSync(
      file,
      parent('b2', 2)
        .map((e) => JSON.stringify({ 'detail-type': e.type, detail: e.detail }))
        .join('\n') + '\n{oops\n',
    );

    const sent = await run(process.execPath, ['bin/shoal.js', 'backfill', '--bus', LOCAL_BUS_NAME, '--file', file], {
      env,
    });
    await stack.queue.drain((event) => makeHandler(stack.ingestDeps())(event, lambdaContext));
    const exported = await run(
      process.execPath,
      ['bin/shoal.js', 'audience', '--table', stack.dynamo.tableName, '--segment', 'seg-002'],
      { env },
    );

    expect(JSON.parse(sent.stdout)).toEqual({ sent: 2, failed: [], tooLarge: [], skipped: { invalid_json: 1 } });
    expect(exported.stdout.trim().split('\n').sort()).toEqual(['b1', 'b2']);
    expect(exported.stderr).toContain('2 customers in seg-002');
  });

  test('the CLI backfills ten 31 KB orders, reports a 300 KB line by number, prints the summary and exits 2', async () => {
    const env = {
      ...process.env,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_EVENTBRIDGE: stack.busServer.endpoint,
    };
    const order = (eventId: string, kb: number) => {
      const detail = makeEvent('order.placed', { customerId: 'big', eventId }).detail;
      const line = (note: string) => JSON.stringify({ 'detail-type': 'order.placed', detail: { ...detail, note } });
      return line('n'.repeat(kb * 1024 - line('').length));
    };
    const lines = Array.from({ length: 10 }, (_, i) => order(`big-${i}`, 31));
    lines.splice(5, 0, order('huge', 300)); // line 6
    const file = join(mkdtempSync(join(tmpdir(), 'shoal-backfill-')), 'big.ndjson');
    writeFileSync(file, lines.join('\n') + '\n');
    const before = stack.bus.eventsOf('order.placed').length;

    const failure = await run(process.execPath, ['bin/shoal.js', 'backfill', '--bus', LOCAL_BUS_NAME, '--file', file], {
      env,
    }).then(
      () => null,
      (err: { code: number; stdout: string; stderr: string }) => err,
    );

    expect(failure?.code).toBe(2);
    const summary = JSON.parse(failure!.stdout) as { sent: number; failed: unknown[]; tooLarge: { line: number }[] };
    expect(summary.sent).toBe(10);
    expect(summary.failed).toEqual([]);
    expect(summary.tooLarge.map((t) => t.line)).toEqual([6]);
    expect(failure!.stderr).toContain('line 6:');
    expect(stack.bus.eventsOf('order.placed').length - before).toBe(10);
  });

  test.each([
    { name: 'mis-cased (Order.Placed)', detailType: 'Order.Placed' },
    { name: 'unknown (order.created)', detailType: 'order.created' },
  ])(
    'a storefront event whose detail-type is $name reaches the quarantine as unknown_detail_type',
    async ({ detailType }) => {
      const event = makeEvent('order.placed', { customerId: 'q1', eventId: `q-${detailType}` });
      const routedBefore = stack.queue.stats.sent;

      const result = await sendToBus(stack.clients.eventbridge, LOCAL_BUS_NAME, settings.source, [
        { detailType, detail: event.detail },
      ]);
      await stack.queue.drain((e) => makeHandler(stack.ingestDeps())(e, lambdaContext));

      expect(result.sent).toBe(1);
      expect(stack.queue.stats.sent - routedBefore).toBe(1);
      const quarantined = await stack.ingestDeps().quarantine.list(now.toISOString().slice(0, 10));
      const entry = quarantined.find((q) => q.rejection.eventId === `q-${detailType}`);
      expect(entry?.rejection).toMatchObject({ reason: 'unknown_detail_type', detailType, customerId: 'q1' });
    },
  );

  test('the CLI prints a day of the quarantine as NDJSON, raw payloads included, with a count by reason', async () => {
    const env = {
      ...process.env,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: stack.dynamo.endpoint,
    };
    const { quarantine } = stack.ingestDeps();
    const day = '2026-11-09';
    const raw = '{"detail-type":"order.placed","detail":{"customerId":"c-9","total":-1}}';
    await quarantine.put([
      {
        messageId: 'cli-1',
        receivedAt: `${day}T10:00:00.000Z`,
        customerId: 'c-9',
        rejection: { reason: 'schema_violation', customerId: 'c-9', issues: [] },
        raw,
      },
    ]);
    // Whichever table the local stack keeps the quarantine in, the CLI reads that one.
    if (!(quarantine instanceof DynamoQuarantine)) throw new Error('the local stack quarantines in DynamoDB');
    const table = quarantine.tableName;

    const out = await run(process.execPath, ['bin/shoal.js', 'quarantine', '--table', table, '--day', day], { env });

    const lines = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { messageId: string; raw: string });
    expect(lines.map((l) => [l.messageId, l.raw])).toEqual([['cli-1', raw]]);
    expect(out.stderr).toContain(`1 quarantined on ${day}: {"schema_violation":1}`);
  });

  test('shoal refold rebuilds a state written under older feature definitions from the log', async () => {
    const env = {
      ...process.env,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: stack.dynamo.endpoint,
    };
    const events = [...gardener('rf-1', 1), ...gardener('rf-1', 2)];
    await sendToBus(
      stack.clients.eventbridge,
      LOCAL_BUS_NAME,
      settings.source,
      events.map((e) => ({ detailType: e.type, detail: e.detail })),
    );
    await stack.queue.drain((event) => makeHandler(stack.ingestDeps())(event, lambdaContext));
    const { profiles, eventLog } = stack.table;
    const before = (await profiles.get('rf-1'))!;
    // A state from before a definition change: another version, and numbers the current fold would not give.
    const stale = { ...emptyState(), v: FEATURE_VERSION - 1, events: 99, views: 42 };
    expect(await profiles.put({ ...before, rev: before.rev + 1, state: stale }, before.rev)).toBe('written');

    const out = await run(
      process.execPath,
      ['bin/shoal.js', 'refold', '--table', stack.dynamo.tableName, '--stage', 'dev'],
      { env },
    );

    expect(JSON.parse(out.stdout).refolded.customers).toBeGreaterThanOrEqual(1);
    const after = (await profiles.get('rf-1'))!;
    const fs = featureSettingsOf(stageConfig('dev').settings);
    expect(after.state.v).toBe(FEATURE_VERSION);
    expect(after.state.events).toBe(4);
    expectSameFeatures(featuresOf(after.state, now, fs), foldEvents(await eventLog.load('rf-1'), now, fs));
  });
});
