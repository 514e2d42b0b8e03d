/**
 * A local SQS → Lambda event-source mapping. SQS stand-ins (ours included) do not emulate it
 * (LOCAL-STACK.md §2), so this module polls the queue and invokes the handler with Lambda's semantics:
 *
 * - long-poll `ReceiveMessage` for up to `batchSize` (≤ 10) messages, topping the batch up until the
 *   batching window closes;
 * - a real-shaped `SQSEvent` (system attributes, message attributes, md5, ARN, region) and a Lambda
 *   `Context` whose deadline is the function timeout;
 * - `ReportBatchItemFailures`: only the successes are deleted; failed messages stay in flight until
 *   their visibility timeout ends and then reappear with a higher `ApproximateReceiveCount`. A response
 *   naming an unknown or empty `itemIdentifier` fails the whole batch, as in Lambda;
 * - a throw or a timeout fails the whole batch (nothing deleted);
 * - at most `maxConcurrency` batches run at once (Lambda's `maximumConcurrency`);
 * - FIFO: the queue locks a message group while any of its messages is in flight, so one group is
 *   never in two batches; within a batch, once a message of a group fails, every later message of that
 *   group is treated as failed too, so a group is never processed out of order;
 * - redrive to the DLQ after `maxReceiveCount` is the queue's job (the RedrivePolicy), not ours.
 *
 * `stop()` stops receiving, waits (bounded) for in-flight batches, and deletes only what succeeded:
 * every other message is left for redelivery, so nothing is lost.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import { createLambdaContext, withTimeout } from './lambda-context';

/** A Lambda handler for SQS events; returns a batch response when `ReportBatchItemFailures` is on. */
export type SqsHandler = (
  event: SQSEvent,
  context: Context,
) => Promise<SQSBatchResponse | void | unknown> | unknown;

export interface SqsEventSourceOptions {
  sqs: SQSClient;
  queueUrl: string;
  handler: SqsHandler;
  /** Name in logs and the Lambda context. */
  functionName: string;
  region: string;
  /** 1–10 (default 10): one ReceiveMessage call's worth. */
  batchSize?: number;
  /** Lambda's `MaximumBatchingWindowInSeconds`, in ms (default 0: invoke with what one receive returned). */
  maximumBatchingWindowMs?: number;
  /** The function timeout (default 30 s). Must not exceed the queue's visibility timeout. */
  functionTimeoutMs?: number;
  /** Concurrent batches, like `ScalingConfig.MaximumConcurrency` (default 2). */
  maxConcurrency?: number;
  /** `FunctionResponseTypes: ['ReportBatchItemFailures']` (default true). */
  reportBatchItemFailures?: boolean;
  /** Long-poll wait per receive, 0–20 s (default 20, as Lambda's pollers). */
  waitTimeSeconds?: number;
  /** How long `stop()` waits for in-flight batches (default: the function timeout). */
  stopTimeoutMs?: number;
  logger?: Logger;
}

export interface EventSourceStats {
  batches: number;
  received: number;
  deleted: number;
  /** Messages left for redelivery (reported failures, throws, timeouts, abandoned at stop). */
  failed: number;
  inFlightBatches: number;
}

export interface SqsEventSource {
  readonly queueArn: string;
  stats(): EventSourceStats;
  /** Stops receiving, waits for in-flight batches (bounded), leaves unfinished messages for redelivery. */
  stop(): Promise<void>;
}

/** Thrown by `startSqsEventSource` for a bad option; names the option. */
export class EventSourceConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventSourceConfigError';
  }
}

function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new EventSourceConfigError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Turns SDK message attributes into the Lambda record's shape (camelCase, binary as base64). */
function toRecordAttributes(attrs: Message['MessageAttributes']): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, a] of Object.entries(attrs ?? {})) {
    out[name] = {
      dataType: a.DataType ?? 'String',
      ...(a.StringValue !== undefined ? { stringValue: a.StringValue } : {}),
      ...(a.BinaryValue !== undefined ? { binaryValue: Buffer.from(a.BinaryValue).toString('base64') } : {}),
      stringListValues: a.StringListValues ?? [],
      binaryListValues: (a.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
    };
  }
  return out;
}

/** Builds the record Lambda would deliver for one received message. Exported for tests and the bench. */
export function toSqsRecord(m: Message, queueArn: string, region: string): SQSRecord {
  const a = m.Attributes ?? {};
  const attributes: SQSRecord['attributes'] = {
    ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
    SentTimestamp: a.SentTimestamp ?? String(Date.now()),
    SenderId: a.SenderId ?? 'local',
    ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    ...(a.SequenceNumber ? { SequenceNumber: a.SequenceNumber } : {}),
    ...(a.MessageGroupId ? { MessageGroupId: a.MessageGroupId } : {}),
    ...(a.MessageDeduplicationId ? { MessageDeduplicationId: a.MessageDeduplicationId } : {}),
    ...(a.AWSTraceHeader ? { AWSTraceHeader: a.AWSTraceHeader } : {}),
  };
  return {
    messageId: m.MessageId ?? '',
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    attributes,
    messageAttributes: toRecordAttributes(m.MessageAttributes),
    md5OfBody: m.MD5OfBody ?? '',
    ...(m.MD5OfMessageAttributes ? { md5OfMessageAttributes: m.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * The message ids to keep (not delete) after a successful invocation, or `'all'` when Lambda would
 * treat the response as a failure of the whole batch.
 */
export function failedIdsFromResponse(
  response: unknown,
  records: SQSRecord[],
  fifo: boolean,
): Set<string> | 'all' {
  const failures = (response as SQSBatchResponse | undefined)?.batchItemFailures;
  if (response === undefined || response === null || failures === undefined || failures === null)
    return new Set();
  if (!Array.isArray(failures)) return 'all';
  const ids = new Set(records.map((r) => r.messageId));
  const failed = new Set<string>();
  for (const f of failures) {
    const id = f?.itemIdentifier;
    // Lambda: an empty, null or unknown identifier makes the whole batch a failure.
    if (typeof id !== 'string' || id === '' || !ids.has(id)) return 'all';
    failed.add(id);
  }
  if (fifo) {
    // Keep group order: after a group's first failure, its later messages must not be deleted either.
    const brokenGroups = new Set<string>();
    for (const r of records) {
      const group = r.attributes.MessageGroupId ?? '';
      if (brokenGroups.has(group)) failed.add(r.messageId);
      else if (failed.has(r.messageId)) brokenGroups.add(group);
    }
  }
  return failed;
}

/**
 * Starts polling `queueUrl` and invoking `handler`; resolves once the queue's attributes were read.
 *
 * @example
 * const source = await startSqsEventSource({ sqs, queueUrl, handler, functionName: 'sender', region });
 * // ... later
 * await source.stop();
 */
export async function startSqsEventSource(options: SqsEventSourceOptions): Promise<SqsEventSource> {
  const batchSize = checkInt('batchSize', options.batchSize ?? 10, 1, 10);
  const windowMs = checkInt('maximumBatchingWindowMs', options.maximumBatchingWindowMs ?? 0, 0, 300_000);
  const functionTimeoutMs = checkInt('functionTimeoutMs', options.functionTimeoutMs ?? 30_000, 1, 900_000);
  const maxConcurrency = checkInt('maxConcurrency', options.maxConcurrency ?? 2, 1, 1000);
  const waitTimeSeconds = checkInt('waitTimeSeconds', options.waitTimeSeconds ?? 20, 0, 20);
  const stopTimeoutMs = checkInt('stopTimeoutMs', options.stopTimeoutMs ?? functionTimeoutMs, 0, 900_000);
  const reportFailures = options.reportBatchItemFailures ?? true;
  const { sqs, queueUrl, handler, functionName, region, logger: log } = options;

  const attrs =
    (
      await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['QueueArn', 'VisibilityTimeout', 'FifoQueue'],
        }),
      )
    ).Attributes ?? {};
  const queueArn = attrs.QueueArn ?? '';
  const fifo = attrs.FifoQueue === 'true' || queueUrl.endsWith('.fifo');
  const visibilityMs = Number(attrs.VisibilityTimeout ?? 30) * 1000;
  // Lambda refuses a mapping whose queue would make a message visible again while it is processed.
  if (functionTimeoutMs > visibilityMs) {
    throw new EventSourceConfigError(
      `functionTimeoutMs (${functionTimeoutMs}) must not exceed the visibility timeout of ${queueUrl} (${visibilityMs} ms)`,
    );
  }

  const stats: EventSourceStats = { batches: 0, received: 0, deleted: 0, failed: 0, inFlightBatches: 0 };
  const abort = new AbortController();
  let stopping = false;
  /** Batches whose outcome arrived after `stop()` gave up on them: they must not be deleted any more. */
  let abandoned = false;

  const receive = async (max: number, waitSeconds: number): Promise<Message[]> => {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: abort.signal },
    );
    return out.Messages ?? [];
  };

  const deleteMessages = async (records: SQSRecord[]): Promise<void> => {
    for (let i = 0; i < records.length; i += 10) {
      const chunk = records.slice(i, i + 10);
      const out = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((r, k) => ({ Id: String(k), ReceiptHandle: r.receiptHandle })),
        }),
      );
      stats.deleted += out.Successful?.length ?? 0;
      // A failed delete (e.g. the receipt handle expired) means the message comes back: harmless,
      // since every handler is idempotent, but worth a line in the log.
      for (const f of out.Failed ?? []) {
        log?.warn('delete after success failed; the message will be redelivered', {
          functionName,
          messageId: chunk[Number(f.Id)]?.messageId,
          code: f.Code,
        });
      }
    }
  };

  const runBatch = async (messages: Message[]): Promise<void> => {
    const records = messages.map((m) => toSqsRecord(m, queueArn, region));
    const event: SQSEvent = { Records: records };
    const context = createLambdaContext({ functionName, timeoutMs: functionTimeoutMs, region });
    stats.batches += 1;
    stats.received += records.length;
    let failed: Set<string> | 'all';
    try {
      const response = await withTimeout(functionName, functionTimeoutMs, async () =>
        handler(event, context),
      );
      failed = reportFailures ? failedIdsFromResponse(response, records, fifo) : new Set();
      if (failed === 'all') {
        log?.warn('invalid batchItemFailures; the whole batch will be redelivered', {
          functionName,
          count: records.length,
        });
      }
    } catch (e) {
      const err = e as Error;
      log?.warn('handler failed; the whole batch will be redelivered', {
        functionName,
        awsRequestId: context.awsRequestId,
        count: records.length,
        errorName: err?.name,
        errorMessage: err?.message,
      });
      failed = 'all';
    }
    const done = failed === 'all' ? [] : records.filter((r) => !(failed as Set<string>).has(r.messageId));
    if (abandoned) {
      stats.failed += records.length;
      return;
    }
    stats.failed += records.length - done.length;
    if (done.length) await deleteMessages(done);
  };

  const worker = async (): Promise<void> => {
    while (!stopping) {
      let messages: Message[];
      try {
        messages = await receive(batchSize, waitTimeSeconds);
        const windowEnd = Date.now() + windowMs;
        while (!stopping && messages.length > 0 && messages.length < batchSize && Date.now() < windowEnd) {
          // Whole seconds only, rounded down: a long poll must not outlast the window (and with it
          // the visibility of the messages already held). Under a second, short-poll and nap.
          const wait = Math.min(20, Math.floor((windowEnd - Date.now()) / 1000));
          const more = await receive(batchSize - messages.length, wait);
          messages = messages.concat(more);
          if (more.length === 0 && wait === 0) await sleep(Math.min(50, Math.max(0, windowEnd - Date.now())));
        }
      } catch (e) {
        if (stopping) return;
        log?.error('receive failed; retrying in 1 s', { functionName, errorName: (e as Error)?.name });
        await sleep(1000);
        continue;
      }
      if (messages.length === 0) continue;
      stats.inFlightBatches += 1;
      try {
        await runBatch(messages);
      } catch (e) {
        log?.error('batch bookkeeping failed; messages will be redelivered', {
          functionName,
          errorName: (e as Error)?.name,
        });
      } finally {
        stats.inFlightBatches -= 1;
      }
    }
  };

  const workers = Array.from({ length: maxConcurrency }, () => worker());

  return {
    queueArn,
    stats: () => ({ ...stats }),
    async stop() {
      if (stopping) return;
      stopping = true;
      // Aborting a long poll may drop a response the queue already sent; those messages just become
      // visible again after their visibility timeout, so nothing is lost.
      abort.abort();
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), stopTimeoutMs);
      });
      const outcome = await Promise.race([Promise.allSettled(workers).then(() => 'done' as const), bound]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        abandoned = true;
        log?.warn('stop: batches still running were left for redelivery', {
          functionName,
          inFlightBatches: stats.inFlightBatches,
        });
      }
    },
  };
}
