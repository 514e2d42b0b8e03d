/**
 * The sender's deadline pacing (lambdas/sender/pacing.ts) under Powertools' real FIFO batch processor:
 * near the function timeout a record is handed back visible at once instead of started, the first
 * record and a record on its last receive always run, and group-mates the processor skips behind a
 * hand-back are handed back too — never a record that ran and set its own visibility.
 */
import { SqsFifoPartialProcessorAsync, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSRecord } from 'aws-lambda';
import type { OutboundQueueControl } from '../../../adapters/aws/sqs-outbound-queue-control';
import { DeadlinePacer, MIN_RECORD_RESERVE_MS } from '../../../lambdas/sender/pacing';

const record = (id: string, group: string, receiveCount = 1): SQSRecord => ({
  messageId: id,
  receiptHandle: `rh-${id}`,
  body: '{}',
  attributes: {
    ApproximateReceiveCount: String(receiveCount),
    SentTimestamp: '1',
    SenderId: 'test',
    ApproximateFirstReceiveTimestamp: '1',
    MessageGroupId: group,
    MessageDeduplicationId: id,
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:x-channel-outbound.fifo',
  awsRegion: 'us-east-1',
});

/** A queue control that records every visibility change. */
function queue() {
  const delays: Array<[string, number]> = [];
  const control: OutboundQueueControl = {
    delay: async (r, s) => void delays.push([r.messageId, s]),
    deadLetter: async () => undefined,
  };
  return { control, delays };
}

/** A context whose remaining time the test sets. */
function clockedContext(remainingMs: number) {
  const c = { remainingMs };
  return {
    c,
    context: { getRemainingTimeInMillis: () => c.remainingMs } as Pick<Context, 'getRemainingTimeInMillis'>,
  };
}

async function run(
  records: SQSRecord[],
  pacer: DeadlinePacer,
  onRecord: (r: SQSRecord) => Promise<void>,
): Promise<string[]> {
  const response = await processPartialResponse(
    { Records: records },
    pacer.wrap(onRecord, records),
    new SqsFifoPartialProcessorAsync(),
    { skipGroupOnError: true, throwOnFullBatchFailure: false },
  );
  await pacer.handBackSkipped(records, response);
  return response.batchItemFailures.map((f) => f.itemIdentifier);
}

describe('DeadlinePacer: records are started only while the invocation has time for them', () => {
  it('plenty of time → every record runs, nothing handed back', async () => {
    const q = queue();
    const { context } = clockedContext(30_000);
    const ran: string[] = [];
    const records = ['a', 'b', 'c'].map((id) => record(id, `g-${id}`));
    const failed = await run(records, new DeadlinePacer(context, q.control, 10), async (r) => {
      ran.push(r.messageId);
    });
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(failed).toEqual([]);
    expect(q.delays).toEqual([]);
  });

  it('time runs short after the first record → the rest are handed back visible at once; one on its last receive still runs', async () => {
    const q = queue();
    const { c, context } = clockedContext(30_000);
    const ran: string[] = [];
    const records = [record('a', 'g1'), record('b', 'g2'), record('c', 'g3', 10), record('d', 'g4')];
    const failed = await run(records, new DeadlinePacer(context, q.control, 10), async (r) => {
      ran.push(r.messageId);
      c.remainingMs = MIN_RECORD_RESERVE_MS - 1;
    });
    expect(ran).toEqual(['a', 'c']);
    expect(failed).toEqual(['b', 'd']);
    expect(q.delays).toEqual([
      ['b', 0],
      ['d', 0],
    ]);
  });

  it('the first record runs even when the time is already short (every receive makes progress)', async () => {
    const q = queue();
    const { context } = clockedContext(100);
    const ran: string[] = [];
    const failed = await run(
      [record('a', 'g1'), record('b', 'g2')],
      new DeadlinePacer(context, q.control, 10),
      async (r) => void ran.push(r.messageId),
    );
    expect(ran).toEqual(['a']);
    expect(failed).toEqual(['b']);
  });

  it('group-mates skipped behind a hand-back are handed back too; a record that ran keeps the delay it set', async () => {
    const q = queue();
    const { c, context } = clockedContext(30_000);
    const records = [
      record('a', 'g1'), // runs, asks to be retried in 60 s (e.g. a rate limit)
      record('a2', 'g1'), // skipped by the processor behind a, before the cut: stays in flight
      record('b', 'g2'), // runs; afterwards the time is short
      record('c', 'g3'), // handed back (the cut)
      record('c2', 'g3'), // skipped behind c: handed back after the batch
      record('a3', 'g1'), // skipped behind a, after the cut: handed back (g1 stays locked by a)
    ];
    const failed = await run(records, new DeadlinePacer(context, q.control, 10), async (r) => {
      if (r.messageId === 'a') {
        await q.control.delay(r, 60);
        throw new Error('retry later');
      }
      c.remainingMs = 1_000;
    });
    expect(failed.sort()).toEqual(['a', 'a2', 'a3', 'c', 'c2']);
    expect(q.delays.sort()).toEqual([
      ['a', 60],
      ['a3', 0],
      ['c', 0],
      ['c2', 0],
    ]);
  });

  it.each([
    [6_000, ['a', 'b'], []],
    [8_000, ['a'], ['b']],
  ])(
    'the reserve is 1.5 times the slowest record so far: after one of %i ms with 11 s left → ran %j',
    async (tookMs, expectedRan, expectedFailed) => {
      const q = queue();
      const { c, context } = clockedContext(30_000);
      let now = 0;
      const pacer = new DeadlinePacer(context, q.control, 10, undefined, () => now);
      const ran: string[] = [];
      const failed = await run([record('a', 'g1'), record('b', 'g2')], pacer, async (r) => {
        ran.push(r.messageId);
        now += tookMs;
        c.remainingMs = 11_000;
      });
      expect(pacer.reserveMs).toBe(tookMs * 1.5);
      expect(ran).toEqual(expectedRan);
      expect(failed).toEqual(expectedFailed);
    },
  );
});
