/**
 * Scenario 1, inbound throughput: a backlog of mentions and DMs waiting at the simulated X
 * (`unlimited` plan, so X's windows do not set the pace), drained through dispatcher → poll-jobs →
 * poller → inbound FIFO by the real handlers, with pagination. The bench clock moves one minute per
 * dispatcher tick, so only processing time is measured, never the wait for the schedule.
 *
 * Ceiling: in the same rig, SendMessageBatch of 10 to the same inbound FIFO queue through the same
 * client configuration, as many in flight as pollers run: what the SQS stand-in can take at most.
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { mapLimit } from '../../core/inbound/concurrency';
import type { ScenarioContext } from '../types';
import { startPipeline, POLLER_CONCURRENCY } from '../pipeline';
import { BenchClock, connectChannels, round, startRig, type BenchChannel, type Rig } from '../rig';

/** One channel count's run. */
export interface InboundRun {
  channels: number;
  backlogItems: number;
  delivered: number;
  duplicates: number;
  seconds: number;
  messagesPerSecond: number;
  ticks: number;
  polls: number;
  xRequests: number;
}

export interface InboundResult {
  messagesPerSecond: number | null;
  ceilingMessagesPerSecond: number | null;
  pipelineToCeiling: number | null;
  /** Channel count the headline figure comes from. */
  headlineChannels: number;
  runs: InboundRun[];
  pollerConcurrency: number;
  missing?: string;
}

/** Backlog per channel count: mentions + DMs per channel (X serves a user's newest 800 mentions). */
export function inboundPlan(
  quick: boolean,
  tiny = false,
): Array<{ channels: number; mentions: number; dms: number }> {
  if (tiny)
    return [
      { channels: 1, mentions: 20, dms: 10 },
      { channels: 3, mentions: 5, dms: 5 },
    ];
  return quick
    ? [
        { channels: 1, mentions: 150, dms: 100 },
        { channels: 100, mentions: 10, dms: 10 },
      ]
    : [
        // Scaled down from the 100,000 items: the whole system shares one 2-core machine here,
        // and 100k items (plus connecting the channels through sign-in) would not fit the 10-minute
        // budget next to the other scenarios (docs/performance.md).
        { channels: 1, mentions: 800, dms: 400 },
        { channels: 100, mentions: 30, dms: 30 },
        { channels: 1000, mentions: 5, dms: 5 },
      ];
}

const CUSTOMERS = 40;

/** Creates customers and the backlog at the simulated X; returns the number of items. */
export function createBacklog(rig: Rig, channels: BenchChannel[], mentions: number, dms: number): number {
  const customers = Array.from({ length: CUSTOMERS }, (_, i) =>
    rig.sim.createUser({ username: `cust${i}_${Math.floor(Math.random() * 1e6)}`, name: `Customer ${i}` }),
  );
  let n = 0;
  for (let i = 0; i < Math.max(mentions, dms); i++) {
    for (const ch of channels) {
      const customer = customers[(i + n) % CUSTOMERS];
      if (i < mentions) {
        rig.sim.createTweet({ authorId: customer.id, text: `@${ch.username} my order #${i} is late` });
        n++;
      }
      if (i < dms) {
        rig.sim.sendDm({
          senderId: customer.id,
          recipientId: ch.accountId,
          text: `hello, about order #${i}`,
        });
        n++;
      }
    }
    rig.clock.advance(5);
  }
  return n;
}

async function runOne(
  ctx: ScenarioContext,
  plan: { channels: number; mentions: number; dms: number },
): Promise<{ run: InboundRun; rig: Rig; stopRig: () => Promise<void> }> {
  const clock = new BenchClock();
  const rig = await startRig({
    dynamodbEndpoint: ctx.dynamodbEndpoint,
    tier: 'unlimited',
    clock,
    pollJobsVisibilitySeconds: 30,
  });
  ctx.progress(`inbound: connecting ${plan.channels} channel(s)`);
  const channels = await connectChannels(rig, plan.channels);
  clock.advance(1000);
  const items = createBacklog(rig, channels, plan.mentions, plan.dms);
  const pipeline = await startPipeline(rig);
  const before = rig.sim.requests();
  let ticks = 0;
  const t0 = performance.now();
  // One tick a (virtual) minute until the backlog is through, bounded in case something is stuck.
  while (pipeline.delivered.length < items && ticks < 60) {
    clock.advance(61_000);
    await pipeline.tick(120_000);
    ticks++;
    ctx.progress(
      `inbound ${plan.channels} ch: ${pipeline.delivered.length}/${items} delivered, tick ${ticks}`,
    );
  }
  const last = pipeline.delivered.reduce((m, d) => Math.max(m, d.publishedRealMs), t0);
  const seconds = (last - t0) / 1000;
  await pipeline.stop();
  const after = rig.sim.requests();
  const xRequests = Object.entries(after).reduce(
    (s, [k, v]) => s + (k.startsWith('GET /2/') ? v - (before[k] ?? 0) : 0),
    0,
  );
  const unique = new Set(pipeline.delivered.map((d) => d.id)).size;
  return {
    run: {
      channels: plan.channels,
      backlogItems: items,
      delivered: unique,
      duplicates: pipeline.delivered.length - unique,
      seconds: round(seconds, 3),
      messagesPerSecond: Math.round(unique / seconds),
      ticks,
      polls: pipeline.pollsDone(),
      xRequests,
    },
    rig,
    stopRig: () => rig.stop(),
  };
}

/** SendMessageBatch ceiling of the inbound FIFO queue through the rig's client. */
async function ceiling(rig: Rig, count: number): Promise<number> {
  const body = JSON.stringify({ schema: 'x-channel.inbound.v1', text: 'x'.repeat(700) });
  const batches = Math.ceil(count / 10);
  const t0 = performance.now();
  await mapLimit(
    Array.from({ length: batches }, (_, b) => b),
    POLLER_CONCURRENCY,
    (b) =>
      rig.setup.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: rig.queues.inbound.url,
          Entries: Array.from({ length: 10 }, (_, i) => ({
            Id: `m${i}`,
            MessageBody: body,
            MessageGroupId: `ceiling:${b % 97}:${i}`,
            MessageDeduplicationId: `ceiling-${b}-${i}`,
          })),
        }),
      ),
  );
  return Math.round((batches * 10) / ((performance.now() - t0) / 1000));
}

export async function benchInbound(ctx: ScenarioContext): Promise<InboundResult> {
  const runs: InboundRun[] = [];
  let ceilingRate: number | null = null;
  const plans = inboundPlan(ctx.quick, ctx.tiny);
  for (const [i, plan] of plans.entries()) {
    const { run, rig, stopRig } = await runOne(ctx, plan);
    runs.push(run);
    try {
      if (i === plans.length - 1) {
        ctx.progress('inbound: SQS ceiling');
        ceilingRate = await ceiling(rig, ctx.quick ? 2000 : 10_000);
      }
    } finally {
      await stopRig();
    }
  }
  const headline = runs[runs.length - 1];
  return {
    messagesPerSecond: headline.messagesPerSecond,
    ceilingMessagesPerSecond: ceilingRate,
    pipelineToCeiling: ceilingRate ? round(headline.messagesPerSecond / ceilingRate, 3) : null,
    headlineChannels: headline.channels,
    runs,
    pollerConcurrency: POLLER_CONCURRENCY,
  };
}
