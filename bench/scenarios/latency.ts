/**
 * Scenario 2, latency: a steady trickle of mentions and DMs on an accelerated clock (60×: the
 * 1-minute schedule ticks every real second). Per message, from the time X created it to the time
 * it was on the inbound queue, split into
 * - waiting for the poll (virtual time from creation to the dispatcher tick that scheduled the poll:
 *   what a user of the 1-minute schedule waits), and
 * - our processing (real time from that tick to the message being on the queue: dispatcher, poll-jobs
 *   hop, poller, X reads, SQS publish).
 * End to end = waiting + processing. Processing is reported in real ms (`latency.processingP99Ms`).
 */
import type { ScenarioContext } from '../types';
import { latencySvg } from '../report';
import { startPipeline } from '../pipeline';
import { BenchClock, connectChannels, percentile, round, startRig } from '../rig';

export interface LatencyResult {
  processingP50Ms: number | null;
  processingP95Ms: number | null;
  processingP99Ms: number | null;
  waitP50Seconds: number | null;
  waitP95Seconds: number | null;
  waitP99Seconds: number | null;
  totalP50Seconds: number | null;
  totalP95Seconds: number | null;
  totalP99Seconds: number | null;
  samples: number;
  created: number;
  channels: number;
  clockSpeed: number;
  scheduleSeconds: number;
  plot?: string;
  missing?: string;
}

const SPEED = 60;

export async function benchLatency(ctx: ScenarioContext): Promise<LatencyResult> {
  const channelsN = ctx.tiny ? 2 : ctx.quick ? 5 : 10;
  const realSeconds = ctx.tiny ? 4 : ctx.quick ? 6 : 40;
  const clock = new BenchClock(Date.now(), SPEED);
  const rig = await startRig({
    dynamodbEndpoint: ctx.dynamodbEndpoint,
    tier: 'pay-per-use',
    xLatency: ctx.xLatency,
    clock,
  });
  try {
    ctx.progress(`latency: connecting ${channelsN} channels`);
    const channels = await connectChannels(rig, channelsN);
    const customer = rig.sim.createUser({ username: `lat_${Date.now() % 1e6}`, name: 'Latency customer' });
    // The lease, claim and time budget are in bench-clock time: scale them so a poll is not cut short.
    const pipeline = await startPipeline(rig, {
      env: { POLL_TIME_BUDGET_MS: String(20_000 * SPEED), POLL_LEASE_MS: String(120_000 * SPEED) },
    });
    const tickReal = new Map<number, number>();
    let created = 0;
    let stop = false;
    // The schedule: one tick a virtual minute, not waiting for the polls (like EventBridge).
    const ticker = (async () => {
      while (!stop) {
        const at = clock.now();
        tickReal.set(Math.floor(at / 1000), performance.now());
        void pipeline.tick(0);
        await new Promise((r) => setTimeout(r, 60_000 / SPEED));
      }
    })();
    const end = performance.now() + realSeconds * 1000;
    let i = 0;
    while (performance.now() < end) {
      const ch = channels[i % channels.length];
      if (i % 2 === 0) rig.sim.createTweet({ authorId: customer.id, text: `@${ch.username} question ${i}` });
      else rig.sim.sendDm({ senderId: customer.id, recipientId: ch.accountId, text: `question ${i}` });
      created++;
      i++;
      ctx.progress(`latency: ${created} created, ${pipeline.delivered.length} delivered`);
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 60));
    }
    // let the last ones through (two schedule periods)
    await new Promise((r) => setTimeout(r, (2 * 60_000) / SPEED + 1000));
    stop = true;
    await ticker;
    await pipeline.stop();
    const processing: number[] = [];
    const wait: number[] = [];
    const total: number[] = [];
    for (const d of pipeline.delivered) {
      const tickRealMs = tickReal.get(Math.floor(d.tickMs / 1000));
      if (tickRealMs === undefined || !Number.isFinite(d.createdAtMs)) continue;
      let waitMs = d.tickMs - d.createdAtMs;
      let procMs = d.publishedRealMs - tickRealMs;
      if (waitMs < 0) {
        // created after the tick but before the read: no wait, processing from creation on
        procMs = (d.publishedVirtualMs - d.createdAtMs) / SPEED;
        waitMs = 0;
      }
      processing.push(procMs);
      wait.push(waitMs / 1000);
      total.push(waitMs / 1000 + procMs / 1000);
    }
    const asc = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const p = (xs: number[], q: number, digits: number) => {
      const v = percentile(asc(xs), q);
      return v === null ? null : round(v, digits);
    };
    const plot = ctx.artifacts.write('latency.svg', latencySvg(processing, total));
    return {
      processingP50Ms: p(processing, 50, 0),
      processingP95Ms: p(processing, 95, 0),
      processingP99Ms: p(processing, 99, 0),
      waitP50Seconds: p(wait, 50, 1),
      waitP95Seconds: p(wait, 95, 1),
      waitP99Seconds: p(wait, 99, 1),
      totalP50Seconds: p(total, 50, 1),
      totalP95Seconds: p(total, 95, 1),
      totalP99Seconds: p(total, 99, 1),
      samples: processing.length,
      created,
      channels: channelsN,
      clockSpeed: SPEED,
      scheduleSeconds: 60,
      ...(plot ? { plot } : {}),
    };
  } finally {
    await rig.stop();
  }
}
