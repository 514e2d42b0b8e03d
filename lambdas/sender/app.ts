/**
 * The sender's record loop around a composed runtime (./compose.ts): each outbound record → one
 * `sendCommand`, under Powertools' FIFO batch processor. Separate from `handler.ts` so that tests, the
 * local runtime and the benchmark can build it with their own runtime (handler.ts composes from
 * `process.env` at import).
 */
import { SqsFifoPartialProcessorAsync, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseOutbound, type ResultMessage } from '../../contracts';
import { failedResult } from '../../core/outbound/results';
import { sendCommand, type Delivery } from '../../core/outbound/send';
import { logger as defaultLogger } from '../shared/logger';
import type { SenderRuntime } from './compose';
import { DeadlinePacer } from './pacing';

/** Thrown to make Powertools report a record as a batch item failure after its visibility was set. */
export class RetryLaterError extends Error {
  constructor(
    readonly reason: string,
    readonly delaySeconds: number,
  ) {
    super(`retry later: ${reason}`);
    this.name = 'RetryLaterError';
  }
}

const KEY_RE = /^.{1,128}$/s;
const CHANNEL_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** A `failed` result for a body that is not a command, when its key and channel can still be read. */
export function rejectionResult(
  partial: Record<string, unknown> | undefined,
  reason: string,
  at: Date,
): ResultMessage | null {
  const key = partial?.idempotencyKey;
  const channelId = partial?.channelId;
  if (
    typeof key !== 'string' ||
    !KEY_RE.test(key) ||
    typeof channelId !== 'string' ||
    !CHANNEL_RE.test(channelId)
  )
    return null;
  return failedResult(
    { idempotencyKey: key, channelId },
    'invalid_input',
    `not a valid x-channel.outbound.v1 command: ${reason}`,
    at,
  );
}

function deliveryOf(record: SQSRecord): Delivery {
  const count = Number(record.attributes?.ApproximateReceiveCount);
  const sent = Number(record.attributes?.SentTimestamp);
  return {
    receiveCount: Number.isFinite(count) && count > 0 ? count : 1,
    sentAt: new Date(Number.isFinite(sent) && sent > 0 ? sent : Date.now()),
  };
}

/** Handles one outbound record; throws only to leave the record on the queue (batch item failure). */
export function createRecordHandler(runtime: SenderRuntime, log: Logger = defaultLogger) {
  const { deps, results, queue } = runtime;
  return async (record: SQSRecord): Promise<void> => {
    const delivery = deliveryOf(record);
    const parsed = parseOutbound(record.body);
    if (!parsed.ok) {
      // Never a command: a result if the producer can be told, the DLQ with the reason either way, then ack.
      const result = rejectionResult(parsed.partial, parsed.error, deps.clock.now());
      if (result) await results.publish(result);
      await queue.deadLetter(record, `invalid outbound command: ${parsed.error}`);
      log.warn('outbound command rejected', {
        messageId: record.messageId,
        reason: parsed.error,
        resultSent: Boolean(result),
      });
      return;
    }
    const command = parsed.value;
    const fields = {
      messageId: record.messageId,
      channelId: command.channelId,
      kind: command.kind,
      receiveCount: delivery.receiveCount,
    };
    let outcome;
    try {
      outcome = runtime.spend
        ? await runtime.spend.within(command.channelId, () => sendCommand(deps, command, delivery))
        : await sendCommand(deps, command, delivery);
    } catch (error) {
      // Unexpected (e.g. DynamoDB unavailable): the message comes back after its visibility timeout,
      // which outlasts the idempotency lease, so the next delivery can take over safely.
      log.error('outbound command failed unexpectedly', { ...fields, errorName: (error as Error)?.name });
      throw error;
    }
    switch (outcome.action) {
      case 'result':
        await results.publish(outcome.result);
        log.info('outbound result', {
          ...fields,
          status: outcome.result.status,
          code: outcome.result.status === 'failed' ? outcome.result.error.code : undefined,
          reason: outcome.reason,
        });
        return;
      case 'drop':
        log.info('outbound duplicate dropped', { ...fields, reason: outcome.reason });
        return;
      case 'retry':
        await queue.delay(record, outcome.delaySeconds);
        log.info('outbound command delayed', {
          ...fields,
          reason: outcome.reason,
          delaySeconds: outcome.delaySeconds,
        });
        throw new RetryLaterError(outcome.reason, outcome.delaySeconds);
    }
  };
}

/**
 * The Lambda handler around a runtime: middy + Powertools logger context + the FIFO batch processor.
 * `skipGroupOnError`: a failed record holds back only the later records of its own message group (one
 * channel + conversation), never other channels' groups in the same batch.
 */
export function createApp(runtime: SenderRuntime, log: Logger = defaultLogger) {
  const onRecord = createRecordHandler(runtime, log);
  return middy<SQSEvent, SQSBatchResponse, Error, Context>()
    .use(injectLambdaContext(log))
    .handler(async (event, context) => {
      const processor = new SqsFifoPartialProcessorAsync();
      // records not started before the function timeout are handed back at once (./pacing.ts)
      const pacer = new DeadlinePacer(
        context,
        runtime.queue,
        runtime.deps.settings.maxReceiveCount,
        (record, remainingMs) =>
          log.info('outbound command handed back before the timeout', {
            messageId: record.messageId,
            remainingMs,
          }),
      );
      const response = await processPartialResponse(event, pacer.wrap(onRecord, event.Records), processor, {
        context,
        skipGroupOnError: true,
        // a batch whose every record waits (rate limit, paused channel) is not an error: report the failures
        throwOnFullBatchFailure: false,
      });
      await pacer.handBackSkipped(event.Records, response);
      return response;
    });
}
