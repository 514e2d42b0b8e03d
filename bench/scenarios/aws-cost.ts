/**
 * Scenario 6, AWS cost: every AWS request the handlers make is counted by the counting clients
 * (bench/counting.ts) — SQS requests (per 64 KiB), DynamoDB read/write units from
 * ReturnConsumedCapacity, Secrets Manager calls (and the KMS request each implies), Lambda invocations
 * and their billed duration at the memory lib/handlers.ts gives each function — and priced with
 * bench/prices.ts. Three workloads on one rig: an inbound backlog, idle polls, outbound commands.
 * The event-source polling of SQS (Lambda's, billed to the account as SQS requests) is included;
 * the case system's own reads of the inbound and results queues are not (they are its cost).
 */
import { HANDLERS } from '../../lib/handlers';
import { planPollInterval, TIER_WINDOWS } from '../../core/inbound/planner';
import type { ScenarioContext } from '../types';
import { priceUsage, type AwsCost, type AwsUsage } from '../counting';
import { startPipeline } from '../pipeline';
import { AWS_PRICES, SECONDS_PER_MONTH } from '../prices';
import { BenchClock, connectChannels, round, startRig } from '../rig';
import { createBacklog } from './inbound';
import { runOutbound } from './outbound';

export interface AwsCostResult {
  usdPerMillionInbound: number | null;
  usdPerMillionOutbound: number | null;
  usdPerIdleChannelMonth: number | null;
  secretReadsPerPoll: number | null;
  /** DynamoDB requests per idle poll (claim + final write when nothing changed). */
  dynamodbRequestsPerIdlePoll: number | null;
  inbound: {
    messages: number;
    usage: AwsUsage;
    cost: AwsCost;
    lambdaMsPerMessage: number;
    cpuMsPerMessage: number;
  };
  idle: { polls: number; usage: AwsUsage; cost: AwsCost; pollsPerMonth: number; usdPerPoll: number };
  outbound: { commands: number; usage: AwsUsage; cost: AwsCost };
  memoryMb: Record<string, number>;
  missing?: string;
}

const memoryMb = Object.fromEntries(Object.values(HANDLERS).map((h) => [h.name, h.memoryMb]));
const perMillion = (usd: number, n: number) => (n ? round((usd / n) * 1e6, 4) : null);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export async function benchAwsCost(ctx: ScenarioContext): Promise<AwsCostResult> {
  const channelsN = ctx.tiny ? 2 : ctx.quick ? 10 : 20;
  const perChannel = ctx.tiny ? 10 : ctx.quick ? 20 : 50;
  const idleRounds = ctx.tiny ? 2 : 5;
  const clock = new BenchClock();
  const rig = await startRig({
    dynamodbEndpoint: ctx.dynamodbEndpoint,
    tier: 'unlimited',
    clock,
    pollJobsVisibilitySeconds: 30,
  });
  try {
    ctx.progress('aws: connecting channels');
    const channels = await connectChannels(rig, channelsN, undefined, 'cost');
    clock.advance(1000);
    const items = createBacklog(rig, channels, perChannel, perChannel);
    const pipeline = await startPipeline(rig);
    // inbound: the backlog, metered
    rig.meter.reset();
    const cpu0 = cpuMs();
    for (let t = 0; pipeline.delivered.length < items && t < 20; t++) {
      clock.advance(61_000);
      await pipeline.tick(120_000);
      ctx.progress(`aws: inbound ${pipeline.delivered.length}/${items}`);
    }
    const inboundCpu = cpuMs() - cpu0;
    const inboundUsage = rig.meter.snapshot();
    const inboundCost = priceUsage(inboundUsage, memoryMb);
    const delivered = new Set(pipeline.delivered.map((d) => d.id)).size;
    const billedMs = Object.values(inboundUsage.lambdaBilledMs).reduce((s, v) => s + v, 0);
    // idle: the same channels, nothing new at X
    rig.meter.reset();
    const pollsBefore = pipeline.pollsDone();
    for (let r = 0; r < idleRounds; r++) {
      clock.advance(61_000);
      await pipeline.tick(60_000);
      ctx.progress(`aws: idle round ${r + 1}/${idleRounds}`);
    }
    await pipeline.stop();
    const idlePolls = pipeline.pollsDone() - pollsBefore;
    const idleUsage = rig.meter.snapshot();
    const idleCost = priceUsage(idleUsage, memoryMb);
    const usdPerPoll = idlePolls ? idleCost.total / idlePolls : 0;
    // an idle channel is polled whenever one of its endpoints is due (pay-per-use cadence)
    const ppu = planPollInterval(TIER_WINDOWS['pay-per-use']);
    const everySeconds = Math.min(ppu.mentionsSeconds ?? Infinity, ppu.dmsSeconds ?? Infinity);
    const pollsPerMonth = Math.round(SECONDS_PER_MONTH / everySeconds);
    // outbound
    ctx.progress('aws: outbound');
    const out = await runOutbound(
      ctx,
      rig,
      Math.max(2, Math.floor(channelsN / 2)),
      ctx.tiny ? 20 : ctx.quick ? 100 : 300,
    );
    const outCost = priceUsage(out.usage, memoryMb);
    return {
      usdPerMillionInbound: perMillion(inboundCost.total, delivered),
      usdPerMillionOutbound: perMillion(outCost.total, out.result.sent + out.result.failed),
      usdPerIdleChannelMonth: idlePolls
        ? round(usdPerPoll * pollsPerMonth + AWS_PRICES.secretsManagerPerSecretMonth, 4)
        : null,
      secretReadsPerPoll: idlePolls ? round(idleUsage.secretReads / idlePolls, 3) : null,
      dynamodbRequestsPerIdlePoll: idlePolls
        ? round(
            Object.entries(idleUsage.requests)
              .filter(([k]) => k.startsWith('dynamodb:') && k !== 'dynamodb:QueryCommand')
              .reduce((s, [, v]) => s + v, 0) / idlePolls,
            2,
          )
        : null,
      inbound: {
        messages: delivered,
        usage: inboundUsage,
        cost: inboundCost,
        lambdaMsPerMessage: round(billedMs / Math.max(1, delivered), 2),
        cpuMsPerMessage: round(inboundCpu / Math.max(1, delivered), 2),
      },
      idle: { polls: idlePolls, usage: idleUsage, cost: idleCost, pollsPerMonth, usdPerPoll },
      outbound: { commands: out.result.commands, usage: out.usage, cost: outCost },
      memoryMb,
    };
  } finally {
    await rig.stop();
  }
}
