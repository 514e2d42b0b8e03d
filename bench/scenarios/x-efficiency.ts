/**
 * Scenario 5, X efficiency and cost, on the `pay-per-use` plan (X's real windows): busy channels with
 * a paginated backlog and a trickle, idle channels with nothing, duplicate poll jobs (redeliveries)
 * and injected faults (503s, a cut connection, a 429 with its reset) during a first phase; then a
 * steady phase with the faults gone, in which no 429 should come back.
 *
 * - `callsPerIdlePoll`: X requests made for idle channels ÷ polls of idle channels (limit 2);
 * - `readsPerDelivered`: posts and DM events X billed ÷ messages delivered (limit 1.00);
 * - `steadyState429s`: 429s X answered during the steady phase (target 0).
 * Plus the planner's poll interval per plan and the monthly X volume and cost of an idle channel.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { pollIntervalsByTier, X_TIER_NAMES } from '../../core/inbound/planner';
import { DEFAULT_POLL_LIMITS } from '../../core/inbound/poll';
import type { ScenarioContext } from '../types';
import { startPipeline } from '../pipeline';
import { SECONDS_PER_MONTH, X_MONTHLY_READ_CAPS, X_PRICES } from '../prices';
import { BenchClock, connectChannels, round, startRig } from '../rig';
import { createBacklog } from './inbound';

export interface XEfficiencyResult {
  callsPerIdlePoll: number | null;
  readsPerDelivered: number | null;
  steadyState429s: number | null;
  faultPhase429s: number;
  delivered: number;
  created: number;
  duplicates: number;
  lost: number;
  billedReads: { posts: number; users: number; dmEvents: number };
  xCostUsd: number;
  polls: number;
  redeliveredJobs: number;
  injectedFaults: number;
  pollIntervalsByTier: Record<
    string,
    {
      mentionsSeconds: number | null;
      dmsSeconds: number | null;
      callsPerMonth: number;
      idleReadsPerMonth: number;
      idleUsdPerMonth: number;
      monthlyReadCap: number | null;
    }
  >;
  idleChannelUsdPerMonth: number;
  missing?: string;
}

/** Monthly X volume of an idle channel on a plan, from the planner's cadence and X's prices. */
function monthly(mentionsSeconds: number | null, dmsSeconds: number | null) {
  const mentionCalls = mentionsSeconds ? SECONDS_PER_MONTH / mentionsSeconds : 0;
  const dmCalls = dmsSeconds ? SECONDS_PER_MONTH / dmsSeconds : 0;
  // Idle: mentions since the checkpoint return nothing (assumed free, X-API.md §7); the first DM page
  // (dmIdlePageSize events) is re-billed once per UTC day.
  const idleReads = dmsSeconds ? 30 * DEFAULT_POLL_LIMITS.dmIdlePageSize : 0;
  return {
    callsPerMonth: Math.round(mentionCalls + dmCalls),
    idleReadsPerMonth: idleReads,
    idleUsdPerMonth: round(idleReads * X_PRICES.dmEventRead, 2),
  };
}

export async function benchXEfficiency(ctx: ScenarioContext): Promise<XEfficiencyResult> {
  const busyN = ctx.tiny ? 1 : ctx.quick ? 3 : 6;
  const idleN = ctx.tiny ? 2 : ctx.quick ? 5 : 20;
  const faultRounds = ctx.tiny ? 3 : ctx.quick ? 8 : 20;
  const steadyRounds = ctx.tiny ? 3 : ctx.quick ? 8 : 20;
  const clock = new BenchClock();
  const rig = await startRig({
    dynamodbEndpoint: ctx.dynamodbEndpoint,
    tier: 'pay-per-use',
    clock,
    pollJobsVisibilitySeconds: 30,
  });
  try {
    ctx.progress('x: connecting channels');
    const busy = await connectChannels(rig, busyN, undefined, 'busy');
    const idle = await connectChannels(rig, idleN, undefined, 'idle');
    clock.advance(1000);
    // paginated backlog: 250 mentions = 3 pages of 100; 40 DMs
    let created = createBacklog(rig, busy, ctx.tiny ? 120 : 250, 40);
    const customer = rig.sim.createUser({ username: `xe_${Date.now() % 1e6}`, name: 'Trickle customer' });
    const pipeline = await startPipeline(rig, { env: { POLL_TIME_BUDGET_MS: '20000' } });
    const faults = [
      { endpoint: 'GET /2/users/:id/mentions', kind: 'status', status: 503, count: 2 },
      { endpoint: 'GET /2/dm_events', kind: 'reset', count: 1 },
      {
        endpoint: 'GET /2/users/:id/mentions',
        kind: 'status',
        status: 429,
        resetSeconds: 120,
        count: 1,
        userId: busy[0].accountId,
      },
    ] as const;
    let redelivered = 0;
    const trickle = (r: number) => {
      const ch = busy[r % busy.length];
      rig.sim.createTweet({ authorId: customer.id, text: `@${ch.username} trickle ${r}` });
      rig.sim.sendDm({ senderId: customer.id, recipientId: ch.accountId, text: `trickle ${r}` });
      created += 2;
    };
    for (let r = 0; r < faultRounds; r++) {
      if (r === 1) for (const f of faults) rig.sim.setFault({ ...f });
      clock.advance(60_000);
      trickle(r);
      if (r % 3 === 2) {
        // a redelivered/duplicate poll job, as a standard queue may hand out
        await rig.setup.sqs.send(
          new SendMessageCommand({
            QueueUrl: rig.queues.pollJobs.url,
            MessageBody: JSON.stringify({
              channelId: busy[0].channelId,
              tick: new Date(clock.now()).toISOString(),
            }),
          }),
        );
        redelivered++;
      }
      await pipeline.tick(60_000);
      ctx.progress(`x: fault phase round ${r + 1}/${faultRounds}, ${pipeline.delivered.length} delivered`);
    }
    rig.sim.clearFaults();
    const steadyFrom = clock.now() + 1;
    for (let r = 0; r < steadyRounds; r++) {
      clock.advance(60_000);
      trickle(faultRounds + r);
      await pipeline.tick(60_000);
      ctx.progress(`x: steady round ${r + 1}/${steadyRounds}, ${pipeline.delivered.length} delivered`);
    }
    // let a last poll pick up the final trickle
    clock.advance(180_000);
    await pipeline.tick(60_000);
    await pipeline.stop();

    const idleUsers = new Set(idle.map((c) => c.accountId));
    const log = rig.sim.rateLimitLog();
    const readEndpoints = /mentions|dm_events/;
    const idleCalls = log.filter((e) => idleUsers.has(e.userId) && readEndpoints.test(e.endpoint)).length;
    const idlePolls = idle.reduce((s, c) => s + (pipeline.pollsByChannel.get(c.channelId) ?? 0), 0);
    const steady429 = log.filter((e) => e.status === 429 && e.at >= steadyFrom).length;
    const fault429 = log.filter((e) => e.status === 429 && e.at < steadyFrom).length;
    const billing = rig.sim.billing();
    const ids = pipeline.delivered.map((d) => d.id);
    const unique = new Set(ids).size;
    const intervals = pollIntervalsByTier();
    const byTier = Object.fromEntries(
      X_TIER_NAMES.map((t) => [
        t,
        {
          ...intervals[t],
          ...monthly(intervals[t].mentionsSeconds, intervals[t].dmsSeconds),
          monthlyReadCap: X_MONTHLY_READ_CAPS[t] ?? null,
        },
      ]),
    ) as XEfficiencyResult['pollIntervalsByTier'];
    return {
      callsPerIdlePoll: idlePolls ? round(idleCalls / idlePolls, 2) : null,
      readsPerDelivered: unique ? round((billing.reads.posts + billing.reads.dmEvents) / unique, 3) : null,
      steadyState429s: steady429,
      faultPhase429s: fault429,
      delivered: unique,
      created,
      duplicates: ids.length - unique,
      lost: Math.max(0, created - unique),
      billedReads: billing.reads,
      xCostUsd: round(billing.costUsd, 4),
      polls: pipeline.pollsDone(),
      redeliveredJobs: redelivered,
      injectedFaults: faults.reduce((s, f) => s + f.count, 0),
      pollIntervalsByTier: byTier,
      idleChannelUsdPerMonth: byTier['pay-per-use'].idleUsdPerMonth,
    };
  } finally {
    await rig.stop();
  }
}
