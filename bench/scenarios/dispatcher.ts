/**
 * Scenario 3, dispatcher scale: 10,000 due channels in the table, one tick of the real dispatcher
 * handler timed, with the DynamoDB units it consumed (ReturnConsumedCapacity) and the SQS requests it
 * made. Channels are written through the channel store (active, signed in), so the due index (gsi1) is
 * exactly what the store maintains.
 */
import { createDynamoChannelStore } from '../../adapters/aws/dynamo-channel-store';
import { DEFAULT_OPTIONS, emptyHealth, type Channel } from '../../core/channel';
import { mapLimit } from '../../core/inbound/concurrency';
import { newChannelId } from '../../core/oauth';
import type { Context } from 'aws-lambda';
import { composeDispatcher, createDispatcherHandler } from '../../lambdas/dispatcher/compose';
import { loadDispatcherConfig } from '../../lambdas/dispatcher/config';
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
  missing?: string;
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

export async function benchDispatcher(ctx: ScenarioContext): Promise<DispatcherResult> {
  const count = ctx.tiny ? 200 : ctx.quick ? 1_000 : 10_000;
  const clock = new BenchClock();
  const rig = await startRig({ dynamodbEndpoint: ctx.dynamodbEndpoint, tier: 'pay-per-use', clock });
  try {
    const store = createDynamoChannelStore({
      client: rig.setup.doc,
      tableName: rig.tableName,
      clock: clock.port,
    });
    const now = new Date(clock.now()).toISOString();
    let made = 0;
    await mapLimit(
      Array.from({ length: count }, (_, i) => i),
      32,
      async (i) => {
        await store.create(activeChannel(i, now));
        if (++made % 1000 === 0) ctx.progress(`dispatcher: ${made}/${count} channels written`);
      },
    );
    clock.advance(1000);
    const runtime = composeDispatcher(loadDispatcherConfig(rig.env), {
      clients: rig.clients,
      clock: clock.port,
      logger: benchLogger,
    });
    const handler = createDispatcherHandler(runtime) as unknown as (
      e: unknown,
      c: Context,
    ) => Promise<DispatchOutcome>;
    rig.meter.reset();
    ctx.progress(`dispatcher: one tick over ${count} due channels`);
    const t0 = performance.now();
    const outcome = await handler(
      { source: 'x-channel.schedule' },
      createLambdaContext({ functionName: 'dispatcher', timeoutMs: 55_000, region: rig.env.AWS_REGION }),
    );
    const tickMs = performance.now() - t0;
    const usage = rig.meter.snapshot();
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
    };
  } finally {
    await rig.stop();
  }
}
