/**
 * The sender's deadline: a batch is 10 commands handled one after another, and a command with media
 * (HEAD, ranged reads, media upload v2, the post) takes several X round trips. Under load or a slow X a
 * batch can outlast the function timeout (30 s). Lambda then kills the invocation and returns none of
 * the batch: every record, the ones already sent included, comes back only after the queue's visibility
 * timeout (180 s), the sent ones to re-emit their stored result, and the one cut short mid-command waits
 * for its lease.
 *
 * So a record is started only while the invocation has time left for it: at least
 * {@link MIN_RECORD_RESERVE_MS}, and 1.5 times the slowest record this invocation has handled so far.
 * The first record of an invocation always runs (every receive makes progress), and so does a record
 * on the queue's last receive (a hand-back there would send it to the DLQ without a result). A record
 * not started is handed back visible at once (no 180 s wait), and so is every later record of the batch
 * that the FIFO processor skips behind it (`skipGroupOnError`): the group's order holds, because SQS
 * hands out a group's oldest message first and none while one of it is in flight.
 */
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import type { OutboundQueueControl } from '../../adapters/aws/sqs-outbound-queue-control';

/** The least time left (ms) in which a record is started: a command's few X calls under a slow X. */
export const MIN_RECORD_RESERVE_MS = 5_000;

/** Thrown for a record handed back before the deadline (Powertools reports it as a batch item failure). */
export class DeadlineHandBack extends Error {
  constructor() {
    super('handed back: the invocation is near its timeout');
    this.name = 'DeadlineHandBack';
  }
}

const receiveCountOf = (record: SQSRecord) => Number(record.attributes?.ApproximateReceiveCount) || 1;

/** One invocation's pacing: wraps the record handler, then hands back what the processor skipped. */
export class DeadlinePacer {
  private started = 0;
  private slowestMs = 0;
  /** Ids of the records this invocation handled or handed back (their visibility is theirs). */
  private readonly seen = new Set<string>();
  /** Index in the batch of the first record handed back; later skipped records are handed back too. */
  private cutAt: number | null = null;

  constructor(
    private readonly context: Pick<Context, 'getRemainingTimeInMillis'>,
    private readonly queue: OutboundQueueControl,
    private readonly maxReceiveCount: number,
    private readonly onHandBack?: (record: SQSRecord, remainingMs: number) => void,
    /** Monotonic ms (tests pass their own). */
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The time a record needs left before it is started. */
  get reserveMs(): number {
    return Math.max(MIN_RECORD_RESERVE_MS, Math.ceil(this.slowestMs * 1.5));
  }

  wrap(onRecord: (record: SQSRecord) => Promise<void>, records: readonly SQSRecord[]) {
    return async (record: SQSRecord): Promise<void> => {
      const remainingMs = this.context.getRemainingTimeInMillis();
      if (this.started > 0 && remainingMs < this.reserveMs && receiveCountOf(record) < this.maxReceiveCount) {
        await this.handBack(record);
        if (this.cutAt === null) this.cutAt = records.indexOf(record);
        this.onHandBack?.(record, remainingMs);
        throw new DeadlineHandBack();
      }
      this.started++;
      this.seen.add(record.messageId);
      const t0 = this.now();
      try {
        await onRecord(record);
      } finally {
        this.slowestMs = Math.max(this.slowestMs, this.now() - t0);
      }
    };
  }

  /**
   * After the batch: records after the cut that the FIFO processor skipped (a group-mate failed before
   * them) are handed back too, instead of waiting out the visibility timeout. Best effort: one that
   * stays in flight comes back after its visibility timeout, as before.
   */
  async handBackSkipped(records: readonly SQSRecord[], response: SQSBatchResponse): Promise<void> {
    if (this.cutAt === null) return;
    const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    const skipped = records
      .slice(this.cutAt + 1)
      .filter((r) => failed.has(r.messageId) && !this.seen.has(r.messageId));
    await Promise.all(skipped.map((r) => this.handBack(r).catch(() => undefined)));
  }

  private async handBack(record: SQSRecord): Promise<void> {
    this.seen.add(record.messageId);
    await this.queue.delay(record, 0);
  }
}
