/**
 * Scenario 4, outbound throughput: commands from the case system (replies to mentions, DMs) on the
 * outbound FIFO queue, grouped by conversation, consumed with Lambda's semantics (batch 10, the
 * preset's 5 concurrent senders) by the real sender handler → simulated X → results queue. Reports
 * commands/s and X calls per command (1.00 when nothing fails: one POST per idempotency key).
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { ResultMessage } from '../../contracts';
import { mapLimit } from '../../core/inbound/concurrency';
import { createApp as createSenderHandler } from '../../lambdas/sender/app';
import { compose as composeSender } from '../../lambdas/sender/compose';
import { loadConfig } from '../../lambdas/sender/config';
import type { ScenarioContext } from '../types';
import {
  benchLogger,
  BenchClock,
  connectChannels,
  consume,
  meteredHandler,
  round,
  startRig,
  waitFor,
  type Rig,
} from '../rig';
import type { AwsUsage } from '../counting';

export interface OutboundResult {
  commandsPerSecond: number | null;
  xCallsPerCommand: number | null;
  commands: number;
  sent: number;
  failed: number;
  seconds: number;
  channels: number;
  senderConcurrency: number;
  failureCodes: Record<string, number>;
  missing?: string;
}

export const SENDER_CONCURRENCY = 5;

/** Runs `count` commands through the sender on `rig`; returns the figures and the AWS usage. */
export async function runOutbound(
  ctx: ScenarioContext,
  rig: Rig,
  channelsN: number,
  count: number,
): Promise<{ result: OutboundResult; usage: AwsUsage }> {
  const channels = await connectChannels(rig, channelsN, undefined, 'out');
  // each channel: 5 customers who mentioned it (so replies are "summoned") and can be DMed
  const targets = channels.flatMap((ch) =>
    Array.from({ length: 5 }, (_, k) => {
      const c = rig.sim.createUser({
        username: `oc${k}_${ch.username}`.slice(0, 15),
        name: `Out customer ${k}`,
      });
      const mention = rig.sim.createTweet({ authorId: c.id, text: `@${ch.username} help please ${k}` });
      return { ch, customerId: c.id, mentionId: mention.id };
    }),
  );
  const commands = Array.from({ length: count }, (_, i) => {
    const t = targets[i % targets.length];
    // 1 in 10 a DM: per channel at most 15 DMs and 100 posts per 15 minutes on pay-per-use (X-API.md §3)
    const dm = i % 10 === 0;
    return {
      group: `${t.ch.channelId}:${dm ? `dm-${t.customerId}` : t.mentionId}`,
      body: {
        schema: 'x-channel.outbound.v1',
        idempotencyKey: `bench-${i}-${Date.now()}`,
        channelId: t.ch.channelId,
        kind: dm ? 'dm' : 'reply',
        targetId: dm ? t.customerId : t.mentionId,
        text: `Thanks for reaching out, we are on it (ticket ${i}).`,
      },
    };
  });
  const results: ResultMessage[] = [];
  let lastResultMs = 0;
  const runtime = composeSender(loadConfig(rig.env), {
    clients: rig.clients,
    clock: rig.clock.port,
  });
  const inner = runtime.results;
  runtime.results = {
    async publish(result) {
      await inner.publish(result);
      results.push(result);
      lastResultMs = performance.now();
    },
  };
  const postsBefore = Object.entries(rig.sim.requests())
    .filter(([k]) => k.startsWith('POST /2/') && !k.includes('oauth2'))
    .reduce((s, [, v]) => s + v, 0);
  // enqueue first (the case system's side, not measured), then let the senders go
  await mapLimit(
    Array.from({ length: Math.ceil(commands.length / 10) }, (_, b) => commands.slice(b * 10, b * 10 + 10)),
    8,
    (batch) =>
      rig.setup.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: rig.queues.outbound.url,
          Entries: batch.map((c, i) => ({
            Id: `c${i}`,
            MessageBody: JSON.stringify(c.body),
            MessageGroupId: c.group,
            MessageDeduplicationId: c.body.idempotencyKey,
          })),
        }),
      ),
  );
  rig.meter.reset();
  const stats = { invocations: 0, failedRecords: 0 };
  const t0 = performance.now();
  const source = await consume(
    rig,
    'outbound',
    'sender',
    meteredHandler('sender', createSenderHandler(runtime, benchLogger), rig.meter, stats),
    {
      batchSize: 10,
      maxConcurrency: SENDER_CONCURRENCY,
    },
  );
  await waitFor(
    () => {
      ctx.progress(`outbound: ${results.length}/${count} results`);
      return results.length >= count;
    },
    240_000,
    50,
  );
  await source.stop();
  const usage = rig.meter.snapshot();
  const postsAfter = Object.entries(rig.sim.requests())
    .filter(([k]) => k.startsWith('POST /2/') && !k.includes('oauth2'))
    .reduce((s, [, v]) => s + v, 0);
  const seconds = (lastResultMs - t0) / 1000;
  const failureCodes: Record<string, number> = {};
  for (const r of results)
    if (r.status === 'failed')
      failureCodes[r.error?.code ?? '?'] = (failureCodes[r.error?.code ?? '?'] ?? 0) + 1;
  const keys = new Set(results.map((r) => r.idempotencyKey));
  return {
    result: {
      commandsPerSecond: Math.round(keys.size / seconds),
      xCallsPerCommand: round((postsAfter - postsBefore) / keys.size, 3),
      commands: count,
      sent: results.filter((r) => r.status === 'sent').length,
      failed: results.filter((r) => r.status === 'failed').length,
      seconds: round(seconds, 2),
      channels: channelsN,
      senderConcurrency: SENDER_CONCURRENCY,
      failureCodes,
    },
    usage,
  };
}

export async function benchOutbound(ctx: ScenarioContext): Promise<OutboundResult> {
  const clock = new BenchClock();
  const rig = await startRig({
    dynamodbEndpoint: ctx.dynamodbEndpoint,
    tier: 'pay-per-use',
    xLatency: ctx.xLatency,
    clock,
  });
  try {
    ctx.progress('outbound: connecting channels');
    const { result } = await runOutbound(
      ctx,
      rig,
      ctx.tiny ? 2 : ctx.quick ? 5 : 20,
      // 400: 20 per channel (2 DMs), inside X's per-user windows; the X latency sets the pace
      ctx.tiny ? 30 : ctx.quick ? 150 : 400,
    );
    return result;
  } finally {
    await rig.stop();
  }
}
