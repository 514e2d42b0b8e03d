/**
 * The local stand-in for the EventBridge schedule that drives the dispatcher. It invokes the handler
 * every `intervalMs` at a fixed rate with an EventBridge "Scheduled Event"; a tick that is still
 * running when the next is due makes the scheduler skip that tick (never two at once), which is
 * what the dispatcher expects: it is idempotent per tick and a late tick covers the missed one.
 */
import { randomUUID } from 'node:crypto';
import type { Context, ScheduledEvent } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import { createLambdaContext, LOCAL_ACCOUNT_ID, withTimeout } from './lambda-context';

export type ScheduleHandler = (event: ScheduledEvent, context: Context) => Promise<unknown> | unknown;

export interface SchedulerOptions {
  handler: ScheduleHandler;
  functionName: string;
  region: string;
  /** Default 60 000 (one tick a minute, as deployed); lower it for demos and tests. */
  intervalMs?: number;
  /** Schedule name in the event's `resources` ARN. */
  scheduleName?: string;
  /** Fire once right away instead of waiting one interval (default false, like a new schedule). */
  runImmediately?: boolean;
  /**
   * The function timeout (default 60 s). A timed-out tick counts as failed; its promise cannot be
   * killed in-process, so it may still finish while the next tick runs.
   */
  timeoutMs?: number;
  logger?: Logger;
}

export interface Scheduler {
  /** Completed ticks (successful or not). */
  ticks(): number;
  /** Stops ticking and waits for a running tick to finish. */
  stop(): Promise<void>;
}

/** The event EventBridge sends a Lambda target on a schedule. Exported for tests and the bench. */
export function buildScheduledEvent(scheduleName: string, region: string, time: Date): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.scheduler',
    account: LOCAL_ACCOUNT_ID,
    time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [`arn:aws:scheduler:${region}:${LOCAL_ACCOUNT_ID}:schedule/default/${scheduleName}`],
    detail: {},
  };
}

/**
 * Starts the ticker.
 *
 * @example
 * const scheduler = startScheduler({ handler: dispatcher, functionName: 'dispatcher', region, intervalMs: 5000 });
 */
export function startScheduler(options: SchedulerOptions): Scheduler {
  const intervalMs = options.intervalMs ?? 60_000;
  if (!Number.isInteger(intervalMs) || intervalMs < 10) {
    throw new Error(`intervalMs must be an integer ≥ 10, got ${intervalMs}`);
  }
  // Not tied to the interval: an accelerated schedule (tests, demos) must not cut a tick short.
  const timeoutMs = options.timeoutMs ?? 60_000;
  const scheduleName = options.scheduleName ?? `${options.functionName}-schedule`;
  const { handler, functionName, region, logger: log } = options;
  let stopped = false;
  let completed = 0;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let next = Date.now() + (options.runImmediately ? 0 : intervalMs);

  const tick = async (scheduled: Date): Promise<void> => {
    const context = createLambdaContext({ functionName, timeoutMs, region });
    try {
      await withTimeout(functionName, timeoutMs, async () =>
        handler(buildScheduledEvent(scheduleName, region, scheduled), context),
      );
    } catch (e) {
      log?.error('scheduled invocation failed', {
        functionName,
        awsRequestId: context.awsRequestId,
        errorName: (e as Error)?.name,
        errorMessage: (e as Error)?.message,
      });
    } finally {
      completed += 1;
    }
  };

  const arm = () => {
    if (stopped) return;
    timer = setTimeout(
      () => {
        const scheduled = new Date(next);
        // Fixed rate: the next slot is counted from the schedule, not from when this tick ends;
        // slots that passed while a tick ran are skipped rather than run back to back.
        do next += intervalMs;
        while (next <= Date.now());
        running = tick(scheduled).finally(() => {
          running = undefined;
          arm();
        });
      },
      Math.max(0, next - Date.now()),
    );
  };
  arm();

  return {
    ticks: () => completed,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
