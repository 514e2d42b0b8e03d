/**
 * Exactly one inbound message per channel and item, whichever path brought it (DESIGN.md "Rules":
 * webhook, X's duplicate deliveries, replay and reconciliation polling may carry the same item minutes
 * or hours apart, beyond SQS FIFO's 5-minute deduplication window).
 *
 * The delivered ledger remembers (channelId, item id) for a few days; `createLedgerPublisher` puts it
 * in front of the inbound publisher both paths use. Ordering rule: **read, publish, then record**.
 * ```
 * read ledger (which of these are delivered?) ─> publish the rest (every entry acked) ─> record them
 * ```
 * - crash (or any error) before or during the publish: nothing is recorded, the caller fails (the
 *   poller keeps its checkpoint, the webhook answers 5xx) and the item comes again — nothing lost;
 *   a publisher that gave up part-way names what it did queue (`queuedBeforeFailure`): those are
 *   recorded before the error goes on, so the retry publishes only the rest;
 * - crash between the publish and the record: the item is on the queue but not in the ledger. A path
 *   that brings it again within 5 minutes is dropped by FIFO dedup (same `<channelId>:<id>`
 *   MessageDeduplicationId); later than that it is published a second time. This window is the
 *   duration of one DynamoDB write after a crash, and consumers dedupe by (`channelId`, `id`) anyway;
 * - two paths at once (webhook and poll within the same second): both may read "not delivered" and
 *   both publish — FIFO dedup drops the second, both record (the record is idempotent).
 * So the ledger never blocks a publish (no claim that a crashed holder would leave behind), and a
 * stale or eventually consistent read costs at most a duplicate that FIFO dedup absorbs.
 *
 * The alternative, claim-then-publish (`claimed` → `published` states), closes no window this one
 * leaves open — a crash after the publish and before `published` is the same window — and adds a
 * write per message plus an "in flight" state that must block the other path until the claim expires.
 */
import type { InboundMessage } from '../../contracts';
import type { Clock } from '../ports';
import { queuedBeforeFailure, type InboundPublisher } from './types';

/** One item of one channel: `id` is the inbound message id (`x:tweet:<id>`, `x:dm:<id>`, `x:chat:<id>`). */
export interface DeliveredKey {
  channelId: string;
  id: string;
}

/**
 * Delivered items per channel, kept for a few days (TTL).
 *
 * @example
 * const done = await ledger.findDelivered([{ channelId: 'ch1', id: 'x:tweet:1' }]);
 * if (!done.has(deliveredKeyOf({ channelId: 'ch1', id: 'x:tweet:1' }))) publish(...);
 */
export interface DeliveredLedger {
  /** Which of `keys` are recorded (as `deliveredKeyOf` strings). May lag a write by a moment. */
  findDelivered(keys: DeliveredKey[]): Promise<Set<string>>;
  /** Records `keys` as delivered at `at`; idempotent. Throws when any could not be written. */
  record(keys: DeliveredKey[], at: Date): Promise<void>;
}

export const deliveredKeyOf = (k: DeliveredKey): string => `${k.channelId}\n${k.id}`;

/** What one publish did. */
export interface LedgerPublishResult {
  /** Messages put on the queue now. */
  published: InboundMessage[];
  /** Messages left out: already delivered (ledger), or repeated within the call. */
  duplicates: number;
}

/** The inbound publisher with the ledger in front: `publish` delivers only what is new. */
export interface LedgerPublisher extends InboundPublisher {
  publishNew(messages: InboundMessage[]): Promise<LedgerPublishResult>;
}

export interface LedgerPublisherOptions {
  ledger: DeliveredLedger;
  publisher: InboundPublisher;
  clock: Clock;
  /**
   * Called when the messages are on the queue but recording them failed (see the crash timeline: at
   * most a later duplicate). The publish still succeeds: the messages ARE durably queued.
   */
  onRecordFailed?: (info: { count: number; error: unknown }) => void;
}

export function createLedgerPublisher(options: LedgerPublisherOptions): LedgerPublisher {
  const { ledger, publisher, clock } = options;

  async function publishNew(messages: InboundMessage[]): Promise<LedgerPublishResult> {
    if (!messages.length) return { published: [], duplicates: 0 };
    // first occurrence wins within the call, in the caller's (oldest-first) order
    const unique = new Map<string, InboundMessage>();
    for (const m of messages) {
      const key = deliveredKeyOf(m);
      if (!unique.has(key)) unique.set(key, m);
    }
    const delivered = await ledger.findDelivered([...unique.values()].map(keyOf));
    const fresh = [...unique.entries()].filter(([k]) => !delivered.has(k)).map(([, m]) => m);
    if (fresh.length) {
      try {
        await publisher.publish(fresh);
      } catch (error) {
        // what did reach the queue is delivered: record it, or a read after the dedup window doubles it
        const queued = queuedBeforeFailure(error);
        if (queued.length)
          await ledger.record(queued.map(keyOf), clock.now()).catch((recordError: unknown) => {
            options.onRecordFailed?.({ count: queued.length, error: recordError });
          });
        throw error;
      }
      try {
        await ledger.record(fresh.map(keyOf), clock.now());
      } catch (error) {
        options.onRecordFailed?.({ count: fresh.length, error });
      }
    }
    return { published: fresh, duplicates: messages.length - fresh.length };
  }

  return {
    publishNew,
    async publish(messages) {
      await publishNew(messages);
    },
  };
}

const keyOf = (m: InboundMessage): DeliveredKey => ({ channelId: m.channelId, id: m.id });
