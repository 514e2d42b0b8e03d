/**
 * Scenario 4, outbound throughput: commands from the case system (replies to mentions, DMs) on the
 * outbound FIFO queue, grouped by conversation, consumed with Lambda's semantics (batch 10, the
 * preset's 5 concurrent senders) by the real sender handler → simulated X → results queue. Reports
 * commands/s and X calls per command (1.00 when nothing fails: one POST per idempotency key). Then the
 * same with media (issue 18): each command carries one 200 KB JPEG from the media bucket (the S3
 * stand-in), uploaded with media upload v2 (initialize, one 1 MB-chunk append, finalize) and attached:
 * media commands/s and X calls per media command (4.00: three upload calls and the post).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { createS3Client } from '../../adapters/aws/s3';
import { ensureBucket, startS3 } from '../../stand-ins/s3';
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
  /** The media run: commands with one image each (null when it did not run). */
  mediaCommandsPerSecond?: number | null;
  xCallsPerMediaCommand?: number | null;
  mediaCommands?: number;
  mediaSent?: number;
  mediaFailureCodes?: Record<string, number>;
  /** Results beyond the first of their key (redeliveries re-emit a stored result; 0 when none came back). */
  mediaRepeatedResults?: number;
  mediaHandedBack?: number;
  commands: number;
  sent: number;
  failed: number;
  seconds: number;
  channels: number;
  senderConcurrency: number;
  failureCodes: Record<string, number>;
  /** Results beyond the first of their key: a redelivered command re-emits its stored result. */
  repeatedResults: number;
  /** Records the sender handed back before its function timeout (lambdas/sender/pacing.ts). */
  handedBack: number;
  missing?: string;
}

export const SENDER_CONCURRENCY = 5;

/** X calls the sender makes: every POST (posts, DMs, media initialize/append/finalize) and STATUS polls. */
const xWrites = (rig: Rig) =>
  Object.entries(rig.sim.requests())
    .filter(([k]) => (k.startsWith('POST /2/') && !k.includes('oauth2')) || k === 'GET /2/media/upload')
    .reduce((s, [, v]) => s + v, 0);

/** Runs `count` commands through the sender on `rig`; returns the figures and the AWS usage. */
export async function runOutbound(
  ctx: ScenarioContext,
  rig: Rig,
  channelsN: number,
  count: number,
  /** Every command carries this `mediaUrls` entry, read through `s3` (the media run). */
  media?: { url: string; bucket: string; s3: import('@aws-sdk/client-s3').S3Client },
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
        idempotencyKey: `bench-${media ? 'm' : ''}${i}-${Date.now()}`,
        channelId: t.ch.channelId,
        kind: dm ? 'dm' : 'reply',
        targetId: dm ? t.customerId : t.mentionId,
        text: `Thanks for reaching out, we are on it (ticket ${i}).`,
        ...(media ? { mediaUrls: [media.url] } : {}),
      },
    };
  });
  // the first result of each key: a redelivery may re-emit a stored result (docs/guarantees.md), which
  // is neither a command nor a new outcome
  const results = new Map<string, ResultMessage>();
  let published = 0;
  let lastResultMs = 0;
  const runtime = composeSender(loadConfig(media ? { ...rig.env, MEDIA_BUCKET: media.bucket } : rig.env), {
    clients: rig.clients,
    clock: rig.clock.port,
    ...(media ? { s3: media.s3 } : {}),
  });
  const inner = runtime.results;
  runtime.results = {
    async publish(result) {
      await inner.publish(result);
      published++;
      if (results.has(result.idempotencyKey)) return;
      results.set(result.idempotencyKey, result);
      lastResultMs = performance.now();
    },
  };
  // a hand-back before the function timeout is the sender's only visibility change to 0 s (a retry waits ≥ 1 s)
  const handedBack = { n: 0 };
  const queue = runtime.queue;
  runtime.queue = {
    ...queue,
    delay: (record, delaySeconds) => {
      if (delaySeconds === 0) handedBack.n++;
      return queue.delay(record, delaySeconds);
    },
  };
  const postsBefore = xWrites(rig);
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
      ctx.progress(`outbound: ${results.size}/${count} commands with a result`);
      return results.size >= count;
    },
    240_000,
    50,
  );
  await source.stop();
  const usage = rig.meter.snapshot();
  const postsAfter = xWrites(rig);
  const seconds = (lastResultMs - t0) / 1000;
  const failureCodes: Record<string, number> = {};
  for (const r of results.values())
    if (r.status === 'failed')
      failureCodes[r.error?.code ?? '?'] = (failureCodes[r.error?.code ?? '?'] ?? 0) + 1;
  const outcomes = [...results.values()];
  return {
    result: {
      commandsPerSecond: Math.round(results.size / seconds),
      xCallsPerCommand: round((postsAfter - postsBefore) / results.size, 3),
      commands: count,
      sent: outcomes.filter((r) => r.status === 'sent').length,
      failed: outcomes.filter((r) => r.status === 'failed').length,
      seconds: round(seconds, 2),
      channels: channelsN,
      senderConcurrency: SENDER_CONCURRENCY,
      failureCodes,
      repeatedResults: published - results.size,
      handedBack: handedBack.n,
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
    // with media: fresh channels (their own X windows), one image in the bucket for every command
    ctx.progress('outbound: media run');
    const stand = await startS3({ port: 0 });
    const s3 = createS3Client({
      region: 'us-east-1',
      endpoint: stand.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const bucket = 'x-channel-media';
      await ensureBucket(s3, bucket);
      const key = 'outbound/bench/photo.jpg';
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: randomBytes(200_000),
          ContentType: 'image/jpeg',
        }),
      );
      const { result: withMedia } = await runOutbound(
        ctx,
        rig,
        ctx.tiny ? 2 : ctx.quick ? 5 : 10,
        ctx.tiny ? 20 : ctx.quick ? 50 : 100,
        { url: `s3://${bucket}/${key}`, bucket, s3 },
      );
      return {
        ...result,
        mediaCommandsPerSecond: withMedia.commandsPerSecond,
        xCallsPerMediaCommand: withMedia.xCallsPerCommand,
        mediaCommands: withMedia.commands,
        mediaSent: withMedia.sent,
        mediaFailureCodes: withMedia.failureCodes,
        mediaRepeatedResults: withMedia.repeatedResults,
        mediaHandedBack: withMedia.handedBack,
      };
    } finally {
      s3.destroy();
      await stand.stop();
    }
  } finally {
    await rig.stop();
  }
}
