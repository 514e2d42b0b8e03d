/**
 * Scenario 6, AWS cost: every AWS request the handlers make is counted by the counting clients
 * (bench/counting.ts) — SQS requests (per 64 KiB), DynamoDB read/write units from
 * ReturnConsumedCapacity, Secrets Manager calls (and the KMS request each implies), Lambda invocations
 * and their billed duration at the memory lib/handlers.ts gives each function — and priced with
 * bench/prices.ts. Workloads on one rig (pay-per-use, the X latency profile): inbound backlogs of 1, 10
 * and 100 messages per channel (so each poll invocation carries that many), idle polls, outbound
 * commands. The handlers log at INFO with EMF metrics on, as deployed, and the bytes of those log lines
 * are counted (bench/log-bytes.ts) for the whole-cost model (bench/cost-model.ts), which adds what
 * is not a request here (log ingestion, X-Ray, KMS, API Gateway, the schedule, the event sources' idle
 * polling, Lambda init).
 * The spend meter's own DynamoDB requests (on spend items alone, bench/dynamo-keys.ts; its charges
 * riding on a poll's final write or a command's completion are not its own) are reported per busy poll (the inbound batches) and
 * per sender invocation (`meterDynamodbRequestsPerPoll`, `meterDynamodbRequestsPerSend`; issue 20: ≤ 1).
 * The event-source polling of SQS (Lambda's, billed to the account as SQS requests) is included;
 * the case system's own reads of the inbound and results queues are not (they are its cost).
 */
import { HANDLERS } from '../../lib/handlers';
import { planPollInterval, TIER_WINDOWS } from '../../core/inbound/planner';
import { createLogger } from '../../lambdas/shared/logger';
import type { ScenarioContext } from '../types';
import { captureLogBytes } from '../log-bytes';
import { priceUsage, type AwsCost, type AwsUsage } from '../counting';
import { startPipeline } from '../pipeline';
import { AWS_PRICES, SECONDS_PER_MONTH } from '../prices';
import { BenchClock, connectChannels, round, startRig } from '../rig';
import { createBacklog } from './inbound';
import { runOutbound } from './outbound';

export interface AwsCostResult {
  /** Measured AWS requests per million inbound messages at 100 messages per poll (the fixed key). */
  usdPerMillionInbound: number | null;
  /** The same at 1, 10 and 100 messages per poll invocation. */
  usdPerMillionInboundAt1: number | null;
  usdPerMillionInboundAt10: number | null;
  usdPerMillionInboundAt100: number | null;
  usdPerMillionOutbound: number | null;
  usdPerIdleChannelMonth: number | null;
  secretReadsPerPoll: number | null;
  /** DynamoDB requests per idle poll (claim + final write when nothing changed). */
  dynamodbRequestsPerIdlePoll: number | null;
  /** DynamoDB requests of the spend meter alone per busy poll (the inbound batches) and per sender invocation. */
  meterDynamodbRequestsPerPoll: number | null;
  meterDynamodbRequestsPerSend: number | null;
  /** Per messages-per-poll batch: what was measured (usage, cost, CloudWatch log bytes at INFO). */
  inboundBatches: Record<string, InboundBatch>;
  idle: {
    polls: number;
    usage: AwsUsage;
    cost: AwsCost;
    pollsPerMonth: number;
    usdPerPoll: number;
    invocationsPerPoll: number;
    logBytesPerPoll: number;
  };
  outbound: { commands: number; usage: AwsUsage; cost: AwsCost };
  memoryMb: Record<string, number>;
  missing?: string;
}

/** One drain at a fixed number of messages per poll. */
export interface InboundBatch {
  messagesPerPoll: number;
  messages: number;
  polls: number;
  invocations: number;
  usage: AwsUsage;
  cost: AwsCost;
  usdPerMillion: number;
  lambdaMsPerMessage: number;
  /** JSON log lines (Powertools at INFO, EMF) per message, in bytes; and EMF alone. */
  logBytesPerMessage: number;
  emfBytesPerMessage: number;
}

const memoryMb = Object.fromEntries(Object.values(HANDLERS).map((h) => [h.name, h.memoryMb]));
const perMillion = (usd: number, n: number) => (n ? round((usd / n) * 1e6, 4) : null);

/** Messages per poll invocation the cost is measured at (mentions + DMs per channel). */
export const BATCHES = [
  { perPoll: 1, mentions: 1, dms: 0 },
  { perPoll: 10, mentions: 5, dms: 5 },
  { perPoll: 100, mentions: 50, dms: 50 },
] as const;

export async function benchAwsCost(ctx: ScenarioContext): Promise<AwsCostResult> {
  const channelsN = ctx.tiny ? 2 : ctx.quick ? 10 : 20;
  const idleRounds = ctx.tiny ? 2 : 5;
  const clock = new BenchClock();
  const rig = await startRig({
    dynamodbEndpoint: ctx.dynamodbEndpoint,
    tier: 'pay-per-use',
    xLatency: ctx.xLatency,
    clock,
    pollJobsVisibilitySeconds: 30,
  });
  const logs = captureLogBytes();
  const metricsWere = process.env.POWERTOOLS_METRICS_DISABLED;
  try {
    ctx.progress('aws: connecting channels');
    const channels = await connectChannels(rig, channelsN, undefined, 'cost');
    clock.advance(1000);
    // as deployed: logs at INFO and EMF metrics on, both counted (and swallowed) by the capture
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const pipeline = await startPipeline(rig, {
      logger: createLogger({ serviceName: 'x-channel', logLevel: 'INFO' }),
    });
    const inboundBatches: Record<string, InboundBatch> = {};
    for (const batch of ctx.tiny ? BATCHES.filter((b) => b.perPoll <= 10) : BATCHES) {
      const before = pipeline.delivered.length;
      const items = createBacklog(rig, channels, batch.mentions, batch.dms);
      rig.meter.reset();
      logs.reset();
      const polls0 = pipeline.pollsDone();
      for (let t = 0; pipeline.delivered.length - before < items && t < 20; t++) {
        clock.advance(61_000);
        await pipeline.tick(120_000);
        ctx.progress(`aws: ${batch.perPoll} per poll, ${pipeline.delivered.length - before}/${items}`);
      }
      const usage = rig.meter.snapshot();
      const cost = priceUsage(usage, memoryMb);
      const messages = new Set(pipeline.delivered.slice(before).map((d) => d.id)).size;
      const billedMs = Object.values(usage.lambdaBilledMs).reduce((a, v) => a + v, 0);
      inboundBatches[String(batch.perPoll)] = {
        messagesPerPoll: batch.perPoll,
        messages,
        polls: pipeline.pollsDone() - polls0,
        invocations: usage.lambdaInvocations,
        usage,
        cost,
        usdPerMillion: perMillion(cost.total, messages) ?? 0,
        lambdaMsPerMessage: round(billedMs / Math.max(1, messages), 2),
        logBytesPerMessage: Math.round(logs.bytes() / Math.max(1, messages)),
        emfBytesPerMessage: Math.round(logs.emfBytes() / Math.max(1, messages)),
      };
    }
    // idle: the same channels, nothing new at X
    rig.meter.reset();
    logs.reset();
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
    const idleLogBytes = logs.bytes();
    const usdPerPoll = idlePolls ? idleCost.total / idlePolls : 0;
    // an idle channel is polled whenever one of its endpoints is due (pay-per-use cadence)
    const ppu = planPollInterval(TIER_WINDOWS['pay-per-use']);
    const everySeconds = Math.min(ppu.mentionsSeconds ?? Infinity, ppu.dmsSeconds ?? Infinity);
    const pollsPerMonth = Math.round(SECONDS_PER_MONTH / everySeconds);
    process.env.POWERTOOLS_METRICS_DISABLED = metricsWere ?? 'true';
    logs.stop();
    // outbound
    ctx.progress('aws: outbound');
    const out = await runOutbound(
      ctx,
      rig,
      Math.max(2, Math.floor(channelsN / 2)),
      ctx.tiny ? 20 : ctx.quick ? 100 : 300,
    );
    const outCost = priceUsage(out.usage, memoryMb);
    const busy = Object.values(inboundBatches);
    const busyPolls = busy.reduce((n, b) => n + b.polls, 0);
    const busyMeter = busy.reduce((n, b) => n + b.usage.meterDynamodbRequests, 0);
    const sends = out.usage.lambdaInvocations; // the sender's alone: the meter is reset before it runs
    const at = (k: number) => inboundBatches[String(k)]?.usdPerMillion ?? null;
    return {
      usdPerMillionInbound: at(100) ?? at(10),
      usdPerMillionInboundAt1: at(1),
      usdPerMillionInboundAt10: at(10),
      usdPerMillionInboundAt100: at(100),
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
      meterDynamodbRequestsPerPoll: busyPolls ? round(busyMeter / busyPolls, 3) : null,
      meterDynamodbRequestsPerSend: sends ? round(out.usage.meterDynamodbRequests / sends, 3) : null,
      inboundBatches,
      idle: {
        polls: idlePolls,
        usage: idleUsage,
        cost: idleCost,
        pollsPerMonth,
        usdPerPoll,
        invocationsPerPoll: idlePolls ? round(idleUsage.lambdaInvocations / idlePolls, 3) : 0,
        logBytesPerPoll: idlePolls ? Math.round(idleLogBytes / idlePolls) : 0,
      },
      outbound: { commands: out.result.commands, usage: out.usage, cost: outCost },
      memoryMb,
    };
  } finally {
    logs.stop();
    process.env.POWERTOOLS_METRICS_DISABLED = metricsWere ?? 'true';
    await rig.stop();
  }
}
