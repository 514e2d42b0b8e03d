import type { ScheduledEvent } from 'aws-lambda';
import { startScheduler } from '../../../local/scheduler';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('local scheduler (EventBridge schedule stand-in)', () => {
  it('invokes with a Scheduled Event, never overlaps ticks, and stop() waits for the running one', async () => {
    const events: ScheduledEvent[] = [];
    const functionNames: string[] = [];
    let running = 0;
    let maxRunning = 0;
    let lastFinished = false;
    const scheduler = startScheduler({
      functionName: 'dispatcher',
      region: 'eu-west-1',
      intervalMs: 20,
      runImmediately: true,
      scheduleName: 'dispatch',
      handler: async (event, context) => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        lastFinished = false;
        events.push(event);
        functionNames.push(context.functionName);
        // Slower than the interval: the scheduler must skip slots, not stack invocations.
        await sleep(60);
        running -= 1;
        lastFinished = true;
      },
    });
    while (events.length < 3) await sleep(10);
    await scheduler.stop();
    expect(lastFinished).toBe(true);
    expect(maxRunning).toBe(1);
    const countAtStop = events.length;
    await sleep(100);
    expect(events.length).toBe(countAtStop);
    expect(scheduler.ticks()).toBe(countAtStop);
    expect(events[0]).toMatchObject({
      version: '0',
      'detail-type': 'Scheduled Event',
      source: 'aws.scheduler',
      region: 'eu-west-1',
      resources: ['arn:aws:scheduler:eu-west-1:000000000000:schedule/default/dispatch'],
      detail: {},
    });
    expect(new Date(events[0].time).toISOString()).toMatch(/^\d{4}-/);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(functionNames.every((n) => n === 'dispatcher')).toBe(true);
  });

  it('keeps ticking after a failing invocation', async () => {
    let calls = 0;
    const scheduler = startScheduler({
      functionName: 'dispatcher',
      region: 'us-east-1',
      intervalMs: 15,
      handler: async () => {
        calls += 1;
        throw new Error('tick failed');
      },
    });
    while (calls < 3) await sleep(10);
    await scheduler.stop();
    expect(calls).toBeGreaterThanOrEqual(3);
  });

  it('rejects a bad interval naming the option', () => {
    expect(() =>
      startScheduler({ functionName: 'd', region: 'us-east-1', intervalMs: 0, handler: () => undefined }),
    ).toThrow(/intervalMs/);
  });
});
