/**
 * The inbound pipeline as deployed, on a rig: the dispatcher handler (called once per "tick"), the
 * poll-jobs queue consumed with Lambda's event-source semantics, the poller handler, the inbound FIFO
 * queue. Sizes follow the CDK construct (poller batch size 1, `pollerMaxConcurrency` of the tier preset).
 */
import type { Context } from 'aws-lambda';
import { createApp as createDispatcherHandler } from '../lambdas/dispatcher/app';
import { compose as composeDispatcher } from '../lambdas/dispatcher/compose';
import { loadConfig as loadDispatcherConfig } from '../lambdas/dispatcher/config';
import { createApp as createPollerHandler } from '../lambdas/poller/app';
import { compose as composePoller } from '../lambdas/poller/compose';
import { loadConfig as loadPollerConfig } from '../lambdas/poller/config';
import { createLambdaContext } from '../local/lambda-context';
import type { SqsEventSource } from '../local/event-source';
import type { InboundMessage } from '../contracts';
import type { DispatchOutcome } from '../core/inbound/dispatch';
import type { HandlerCpuMeter } from './cpu';
import {
  benchLogger,
  consume,
  currentJob,
  meteredHandler,
  waitFor,
  type InvocationStats,
  type Rig,
} from './rig';

/** One message as it reached the inbound queue. */
export interface Delivered {
  id: string;
  channelId: string;
  kind: string;
  /** Virtual ms the item was created at X. */
  createdAtMs: number;
  /** Virtual ms of the dispatcher tick that scheduled the poll. */
  tickMs: number;
  /** Real (performance.now) ms when the publish call returned: the message is on the queue. */
  publishedRealMs: number;
  /** Virtual ms at the same moment. */
  publishedVirtualMs: number;
}

export interface Pipeline {
  delivered: Delivered[];
  /** Poll invocations per channel id. */
  pollsByChannel: Map<string, number>;
  poller: InvocationStats;
  /** Runs one dispatcher tick through its handler and waits until every job it enqueued was polled. */
  tick(timeoutMs?: number): Promise<DispatchOutcome>;
  /** Polls finished so far. */
  pollsDone(): number;
  stop(): Promise<void>;
}

/** Poller concurrency of the deployed preset (lib/handlers.ts X_TIER_PRESETS['pay-per-use']). */
export const POLLER_CONCURRENCY = 10;

export async function startPipeline(
  rig: Rig,
  opts: {
    env?: Record<string, string>;
    pollerConcurrency?: number;
    /** Counts the CPU of the dispatcher and poller invocations (bench/cpu.ts). */
    cpu?: HandlerCpuMeter;
    /** The handlers' logger (default the quiet bench logger; the cost scenario logs at INFO). */
    logger?: typeof benchLogger;
  } = {},
): Promise<Pipeline> {
  const env = { ...rig.env, ...opts.env };
  const delivered: Delivered[] = [];
  const pollsByChannel = new Map<string, number>();
  const poller: InvocationStats = { invocations: 0, failedRecords: 0 };
  const pollerRuntime = composePoller(loadPollerConfig(env), {
    clients: rig.clients,
    clock: rig.clock.port,
    logger: opts.logger ?? benchLogger,
    wrapPublisher: (inner) => ({
      async publish(messages: InboundMessage[]) {
        await inner.publish(messages);
        const publishedRealMs = performance.now();
        const publishedVirtualMs = rig.clock.now();
        const job = currentJob.getStore();
        const tickMs = job?.tick ? Date.parse(job.tick) : Number.NaN;
        for (const m of messages) {
          delivered.push({
            id: m.id,
            channelId: m.channelId,
            kind: m.kind,
            createdAtMs: Date.parse(m.createdAt),
            tickMs,
            publishedRealMs,
            publishedVirtualMs,
          });
        }
      },
    }),
  });
  const metered = meteredHandler('poller', createPollerHandler(pollerRuntime), rig.meter, poller, (event) => {
    for (const r of event.Records) {
      try {
        const id = (JSON.parse(r.body) as { channelId?: string }).channelId ?? '?';
        pollsByChannel.set(id, (pollsByChannel.get(id) ?? 0) + 1);
      } catch {
        // an invalid job is acked by the poller itself
      }
    }
  });
  const cpu = opts.cpu;
  const pollerHandler: typeof metered = cpu
    ? (event, context) => cpu.run(() => metered(event, context))
    : metered;
  const source: SqsEventSource = await consume(rig, 'pollJobs', 'poller', pollerHandler, {
    batchSize: 1,
    maxConcurrency: opts.pollerConcurrency ?? POLLER_CONCURRENCY,
  });
  const dispatcherRuntime = composeDispatcher(loadDispatcherConfig(env), {
    clients: rig.clients,
    clock: rig.clock.port,
    logger: opts.logger ?? benchLogger,
  });
  const dispatcherHandler = createDispatcherHandler(dispatcherRuntime) as unknown as (
    event: unknown,
    context: Context,
  ) => Promise<DispatchOutcome>;
  let expected = 0;
  return {
    delivered,
    pollsByChannel,
    poller,
    pollsDone: () => poller.invocations,
    async tick(timeoutMs = 60_000) {
      const t0 = performance.now();
      const context = createLambdaContext({
        functionName: 'dispatcher',
        timeoutMs: 55_000,
        region: rig.env.AWS_REGION,
      });
      const event = { source: 'x-channel.schedule', time: new Date(rig.clock.now()).toISOString() };
      const outcome = await (cpu
        ? cpu.run(() => dispatcherHandler(event, context))
        : dispatcherHandler(event, context));
      rig.meter.invocation('dispatcher', performance.now() - t0);
      expected += outcome.enqueued;
      await waitFor(() => poller.invocations >= expected, timeoutMs);
      // a job whose poll failed comes back after the visibility timeout; count it as done for this round
      expected = Math.max(expected, poller.invocations);
      return outcome;
    },
    async stop() {
      await source.stop();
    },
  };
}
