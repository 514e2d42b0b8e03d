/**
 * Scenario 3, dispatcher scale: 10,000 due channels in the table, one tick of the real dispatcher
 * handler timed (a KEYS_ONLY query of the due index + SendMessageBatch of 10, no DynamoDB write), with
 * the DynamoDB units it consumed (ReturnConsumedCapacity) and the SQS requests it made. Channels are
 * written through the channel store (active, signed in), so the due index (gsi1) is exactly what the
 * store maintains.
 *
 * Two ticks are timed, by their schedule time: a regular one (`channels10kMs`, `tickMs`) and one on a
 * 5-minute mark, which also reads the channel gauges from the list index in parallel
 * (`gaugeTickMs`, `gaugeReadUnits`; lambdas/dispatcher/app.ts `GAUGE_EVERY_MINUTES`).
 */
import { createDynamoChannelStore } from '../../adapters/aws/dynamo-channel-store';
import { DEFAULT_OPTIONS, emptyHealth, type Channel } from '../../core/channel';
import { mapLimit } from '../../core/inbound/concurrency';
import { newChannelId } from '../../core/oauth';
import type { Context } from 'aws-lambda';
import { createApp as createDispatcherHandler, GAUGE_EVERY_MINUTES } from '../../lambdas/dispatcher/app';
import { compose as composeDispatcher } from '../../lambdas/dispatcher/compose';
import { loadConfig as loadDispatcherConfig } from '../../lambdas/dispatcher/config';
import type { DispatchOutcome } from '../../core/inbound/dispatch';
import { createLambdaContext } from '../../local/lambda-context';
import type { ScenarioContext } from '../types';
import { BenchClock, benchLogger, round, startRig } from '../rig';

export interface DispatcherResult {
  channels10kMs: number | null;
  channels: number;
  tickMs: number | null;
  due: number;
  enqueued: number;
  pages: number;
  readUnits: number;
  writeUnits: number;
  sqsRequests: number;
  dynamodbRequests: Record<string, number>;
  /** The tick on a 5-minute mark: dispatch + channel gauges (list index) in parallel. */
  gaugeTickMs: number | null;
  gaugeReadUnits: number;
  missing?: string;
}

/** The latest whole minute in (after, now] whose UTC minute is (or is not) a multiple of the gauge period. */
function scheduleMinute(afterMs: number, nowMs: number, gauges: boolean): string {
  for (let m = Math.floor(nowMs / 60_000) * 60_000; m > afterMs; m -= 60_000) {
    if ((new Date(m).getUTCMinutes() % GAUGE_EVERY_MINUTES === 0) === gauges)
      return new Date(m).toISOString();
  }
  throw new Error('bench: no schedule minute in range');
}

function activeChannel(i: number, now: string): Channel {
  return {
    id: newChannelId(),
    name: `bench ${i}`,
    status: 'active',
    statusReason: null,
    account: { id: String(10_000_000 + i), username: `disp${i}`, name: `Dispatch ${i}`, avatarUrl: null },
    scopes: ['tweet.read', 'users.read', 'tweet.write', 'dm.write', 'dm.read', 'offline.access'],
    listenMentions: true,
    listenDms: true,
    autoFollow: false,
    options: { ...DEFAULT_OPTIONS },
    createdAt: now,
    updatedAt: now,
    connectedAt: now,
    checkpoints: { mentionsSinceId: null, dmEventId: null, dmCreatedAt: null },
    health: emptyHealth(),
    version: 1,
  };
}

/**
 * The table of due channels, written once per bench process and DynamoDB Local and reused by the
 * later runs: a tick only reads it (KEYS_ONLY query, no write), so every run finds the same 10,000
 * channels due, and a busy machine does not spend each run writing them again.
 */
let prepared: { endpoint: string; count: number; tableName: string; createdMs: number } | undefined;

export async function benchDispatcher(ctx: ScenarioContext): Promise<DispatcherResult> {
  const count = ctx.tiny ? 200 : ctx.quick ? 1_000 : 10_000;
  const reuse =
    prepared?.endpoint === ctx.dynamodbEndpoint && prepared.count === count ? prepared : undefined;
  const clock = new BenchClock();
  const rig = await startRig({
    dynamodbEndpoint: ctx.dynamodbEndpoint,
    tier: 'pay-per-use',
    clock,
    ...(reuse ? { tableName: reuse.tableName } : {}),
  });
  try {
    const store = createDynamoChannelStore({
      client: rig.setup.doc,
      tableName: rig.tableName,
      clock: clock.port,
    });
    const now = new Date(reuse?.createdMs ?? clock.now()).toISOString();
    if (!reuse) {
      let made = 0;
      await mapLimit(
        Array.from({ length: count }, (_, i) => i),
        32,
        async (i) => {
          await store.create(activeChannel(i, now));
          if (++made % 1000 === 0) ctx.progress(`dispatcher: ${made}/${count} channels written`);
        },
      );
      prepared = {
        endpoint: ctx.dynamodbEndpoint,
        count,
        tableName: rig.tableName,
        createdMs: Date.parse(now),
      };
    }
    // every channel is due at `now`; the two schedule times below are whole minutes after it
    clock.advance((GAUGE_EVERY_MINUTES + 1) * 60_000);
    const runtime = composeDispatcher(loadDispatcherConfig(rig.env), {
      clients: rig.clients,
      clock: clock.port,
      logger: benchLogger,
    });
    const handler = createDispatcherHandler(runtime) as unknown as (
      e: unknown,
      c: Context,
    ) => Promise<DispatchOutcome>;
    const context = () =>
      createLambdaContext({ functionName: 'dispatcher', timeoutMs: 55_000, region: rig.env.AWS_REGION });
    const createdMs = Date.parse(now);
    rig.meter.reset();
    ctx.progress(`dispatcher: one tick over ${count} due channels`);
    const t0 = performance.now();
    const outcome = await handler(
      { source: 'x-channel.schedule', time: scheduleMinute(createdMs, clock.now(), false) },
      context(),
    );
    const tickMs = performance.now() - t0;
    const usage = rig.meter.snapshot();
    // nothing polled meanwhile: every channel is still due, so this tick dispatches them all again
    rig.meter.reset();
    ctx.progress(`dispatcher: a tick with the channel gauges over ${count} channels`);
    const g0 = performance.now();
    await handler(
      { source: 'x-channel.schedule', time: scheduleMinute(createdMs, clock.now(), true) },
      context(),
    );
    const gaugeTickMs = performance.now() - g0;
    const gaugeUsage = rig.meter.snapshot();
    const dynamodbRequests = Object.fromEntries(
      Object.entries(usage.requests).filter(([k]) => k.startsWith('dynamodb:')),
    );
    return {
      channels10kMs: count === 10_000 ? Math.round(tickMs) : null,
      ...(count === 10_000
        ? {}
        : {
            missing: `quick run: ${count} channels measured (see dispatcher.tickMs); 10,000 in the full run`,
          }),
      channels: count,
      tickMs: Math.round(tickMs),
      due: outcome.due,
      enqueued: outcome.enqueued,
      pages: outcome.pages,
      readUnits: round(usage.dynamodbRru, 1),
      writeUnits: round(usage.dynamodbWru, 1),
      sqsRequests: usage.sqsStandardRequests + usage.sqsFifoRequests,
      dynamodbRequests,
      gaugeTickMs: Math.round(gaugeTickMs),
      gaugeReadUnits: round(gaugeUsage.dynamodbRru, 1),
    };
  } finally {
    await rig.stop();
  }
}
