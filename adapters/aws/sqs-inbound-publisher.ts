/**
 * Publishes inbound v1 messages to the inbound FIFO queue (DESIGN.md "Contracts": `MessageGroupId` =
 * channel id + ':' + conversation id, `MessageDeduplicationId` = channel id + ':' + message id, so one post
 * that mentions two connected accounts is two messages, one per channel).
 *
 * SendMessageBatch can succeed as a call and still refuse single entries, so EVERY entry's result is
 * checked; refused entries are retried (same dedup id, so a retry of an entry SQS did take is
 * dropped by FIFO dedup) and if any remain, `publish` throws `retryable`: the poller then does not
 * move its checkpoint. The error carries the messages SQS did take (`queued`), so the delivered ledger
 * records them: read again after FIFO's 5-minute dedup window they would otherwise be queued twice. Batches go out one after another, oldest first, because FIFO order within a
 * group holds only for messages sent in order.
 */
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { InboundMessage } from '../../contracts';
import { retryable } from '../../core/errors';
import { backoffMs } from '../../core/inbound/concurrency';
import type { InboundPublisher } from '../../core/inbound/types';

export interface SqsInboundPublisherOptions {
  client: SQSClient;
  queueUrl: string;
  /** Attempts per entry (first send included). */
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** SQS caps a batch at 10 entries and 256 KiB in total; stay below with room for attributes. */
const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 200 * 1024;

/** The FIFO group of an inbound message: one conversation of one channel. */
export const inboundGroupId = (m: InboundMessage) => `${m.channelId}:${m.conversationId}`;

/** The FIFO dedup id of an inbound message: unique per channel, since two channels may receive the same post. */
export const inboundDeduplicationId = (m: InboundMessage) => `${m.channelId}:${m.id}`;

function batches(entries: SendMessageBatchRequestEntry[]): SendMessageBatchRequestEntry[][] {
  const out: SendMessageBatchRequestEntry[][] = [];
  let current: SendMessageBatchRequestEntry[] = [];
  let bytes = 0;
  for (const e of entries) {
    const size = Buffer.byteLength(e.MessageBody ?? '');
    if (current.length && (current.length === MAX_ENTRIES || bytes + size > MAX_BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(e);
    bytes += size;
  }
  if (current.length) out.push(current);
  return out;
}

export function createSqsInboundPublisher(options: SqsInboundPublisherOptions): InboundPublisher {
  const { client, queueUrl } = options;
  const maxAttempts = options.maxAttempts ?? 4;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;

  /** Sends one batch; returns the ids of the entries SQS refused every time (empty: all queued). */
  async function sendBatch(
    batch: SendMessageBatchRequestEntry[],
  ): Promise<{ refused: Set<string>; reason: string }> {
    let pending = batch;
    let lastReason = '';
    for (let attempt = 0; attempt < maxAttempts && pending.length; attempt++) {
      if (attempt > 0) await sleep(backoffMs(attempt - 1, random, 100, 2000));
      try {
        const res = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
        const failed = new Set((res.Failed ?? []).map((f) => f.Id));
        const ok = new Set((res.Successful ?? []).map((s) => s.Id));
        for (const f of res.Failed ?? []) lastReason = f.Code ?? 'unknown';
        // an entry missing from both lists is treated as failed: never assume delivery
        pending = pending.filter((e) => failed.has(e.Id) || !ok.has(e.Id));
      } catch (e) {
        lastReason = (e as Error).name;
      }
    }
    return { refused: new Set(pending.map((e) => e.Id as string)), reason: lastReason };
  }

  return {
    async publish(messages) {
      const entries = messages.map((m, i) => ({
        Id: `m${i}`,
        MessageBody: JSON.stringify(m),
        MessageGroupId: inboundGroupId(m),
        MessageDeduplicationId: inboundDeduplicationId(m),
      }));
      const queued: InboundMessage[] = [];
      for (const batch of batches(entries)) {
        const { refused, reason } = await sendBatch(batch);
        for (const e of batch)
          if (!refused.has(e.Id as string)) queued.push(messages[Number(e.Id?.slice(1))]);
        if (refused.size) {
          const error = retryable(
            'inbound_unavailable',
            `${refused.size} inbound message(s) could not be queued (${reason}); the checkpoint stays`,
          );
          throw Object.assign(error, { queued });
        }
      }
    },
  };
}
