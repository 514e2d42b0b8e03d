/**
 * Scenario 1, inbound throughput and capacity: a backlog of mentions and DMs waiting at the simulated X
 * (pay-per-use plan: X's per-user windows apply; the X latency profile on every call), drained through
 * dispatcher → poll-jobs → poller → inbound FIFO by the real handlers, with pagination, at the deployed
 * poller concurrency. The bench clock moves one minute per dispatcher tick, so only processing time is
 * measured, never the wait for the schedule.
 *
 * - `cpuMsPerMessage`: the handlers' process CPU (bench/cpu.ts: dispatcher and poller invocations, with
 *   their clients; not the stand-ins or the simulator) per delivered message, over the whole drain;
 * - capacity: once the backlog is through, one more tick with every channel idle and due, timed: the
 *   channels one tick serves per minute at the deployed concurrency (`capacityChannelsPerMinute`), the
 *   mean poll time, and the poller concurrency N channels need to be polled within 45 s of a minute.
 *   X's per-user windows still cap each channel (mentions every minute, DMs every 129 s on
 *   pay-per-use; core/inbound/planner.ts), whatever the concurrency.
 *
 * Ceiling (`ceilingMessagesPerSecond`): afterwards, in the same rig, SendMessageBatch of 10 to the
 * same inbound FIFO queue through the same client configuration, as many in flight as pollers run:
 * the SQS stand-in's uncontended speed. It is NOT a limit the pipeline is held against (the pipeline
 * is paced by X's latency and windows long before); it tells whether the harness could be the
 * bottleneck (`pipelineToCeiling` near 1 would say so).
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { mapLimit } from '../../core/inbound/concurrency';
import type { ScenarioContext } from '../types';
import { HandlerCpuMeter } from '../cpu';
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
  /** Handlers' CPU ms per delivered message over the drain. */
  cpuMsPerMessage: number;
  /** The idle tick after the drain: wall seconds, polls, mean poll ms. */
  idleTickSeconds: number;
  /** Channels polled in the idle tick, and the extra polls of redelivered jobs. */
  idlePolls: number;
  idleDuplicatePolls: number;
  meanIdlePollMs: number;
}

export interface InboundResult {
  messagesPerSecond: number | null;
  ceilingMessagesPerSecond: number | null;
  pipelineToCeiling: number | null;
  /** Channel count the headline figure comes from. */
  headlineChannels: number;
  cpuMsPerMessage: number | null;
  /** Channels one tick polls per minute at `pollerConcurrency` (headline channel count, idle). */
  capacityChannelsPerMinute: number | null;
  idleTickSeconds: number | null;
  meanIdlePollMs: number | null;
  concurrencyFor1000Channels: number | null;
  concurrencyFor10000Channels: number | null;
  runs: InboundRun[];
  pollerConcurrency: number;
  missing?: string;
}

/** Seconds of each minute the polls of one tick may take (the rest is headroom for X's tail). */
export const TICK_BUDGET_SECONDS = 45;

/** Poller concurrency that polls `channels` within {@link TICK_BUDGET_SECONDS}, from the mean poll time. */
export function concurrencyFor(channels: number, meanPollMs: number): number {
  return Math.max(1, Math.ceil((channels * meanPollMs) / 1000 / TICK_BUDGET_SECONDS));
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
    tier: 'pay-per-use',
    xLatency: ctx.xLatency,
    clock,
    pollJobsVisibilitySeconds: 30,
  });
  ctx.progress(`inbound: connecting ${plan.channels} channel(s)`);
  const channels = await connectChannels(rig, plan.channels);
  clock.advance(1000);
  const items = createBacklog(rig, channels, plan.mentions, plan.dms);
  const cpu = new HandlerCpuMeter();
  const pipeline = await startPipeline(rig, { cpu });
  const before = rig.sim.requests();
  let ticks = 0;
  cpu.enable();
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
  cpu.disable();
  const drainCpuMs = cpu.ms();
  // capacity: one more tick, every channel idle and due (mentions every minute on pay-per-use)
  ctx.progress(`inbound ${plan.channels} ch: idle tick`);
  rig.meter.reset();
  const pollsBefore = pipeline.pollsDone();
  clock.advance(61_000);
  const i0 = performance.now();
  await pipeline.tick(300_000);
  const idleTickSeconds = (performance.now() - i0) / 1000;
  // a job redelivered while the tick runs (visibility timeout) is polled twice: count channels once
  const idlePolls = Math.min(plan.channels, pipeline.pollsDone() - pollsBefore);
  const idleDuplicatePolls = pipeline.pollsDone() - pollsBefore - idlePolls;
  const idleBilledMs = rig.meter.snapshot().lambdaBilledMs.poller ?? 0;
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
      cpuMsPerMessage: round(drainCpuMs / Math.max(1, unique), 3),
      idleTickSeconds: round(idleTickSeconds, 2),
      idlePolls,
      idleDuplicatePolls,
      meanIdlePollMs: idlePolls ? Math.round(idleBilledMs / (idlePolls + idleDuplicatePolls)) : 0,
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
  const capacity =
    headline.idlePolls > 0 && headline.idleTickSeconds > 0
      ? Math.floor((headline.idlePolls / headline.idleTickSeconds) * 60)
      : null;
  const meanPoll = headline.idlePolls > 0 ? headline.meanIdlePollMs : null;
  return {
    messagesPerSecond: headline.messagesPerSecond,
    ceilingMessagesPerSecond: ceilingRate,
    pipelineToCeiling: ceilingRate ? round(headline.messagesPerSecond / ceilingRate, 3) : null,
    headlineChannels: headline.channels,
    cpuMsPerMessage: headline.cpuMsPerMessage,
    capacityChannelsPerMinute: capacity,
    idleTickSeconds: headline.idleTickSeconds,
    meanIdlePollMs: meanPoll,
    concurrencyFor1000Channels: meanPoll === null ? null : concurrencyFor(1000, meanPoll),
    concurrencyFor10000Channels: meanPoll === null ? null : concurrencyFor(10_000, meanPoll),
    runs,
    pollerConcurrency: POLLER_CONCURRENCY,
  };
}
