/**
 * Exactly one inbound message per channel and item, whichever path brought it (DESIGN.md "Rules":
 * webhook, X's duplicate deliveries, replay and reconciliation polling may carry the same item minutes
 * or hours apart, beyond SQS FIFO's 5-minute deduplication window).
 *
 * The delivered ledger remembers (channelId, item id) for a few days; `createLedgerPublisher` puts it
 * in front of the inbound publisher both paths use. Ordering rule: **read, hold, publish, record**:
 * ```
 * read ledger ─> hold the rest as PENDING (with the message) ─> publish (same dedup id) ─> record
 *   (delivered?)      written before SQS is asked                 every entry acked      DELIVERED,
 *                                                                                         drop PENDING
 * settlePending (each minute, the webhook function's schedule): every PENDING older than a minute
 *   ─> delivered? drop it ─> else publish it again with the same dedup id ─> record ─> drop it
 * ```
 * Why the pending entry: SQS cannot be asked whether it holds a message, so after a death between the
 * publish and the record nothing but time tells "queued" from "never sent". FIFO dedup does: a send
 * with the same `MessageDeduplicationId` within 5 minutes of the first accepted one is dropped. The
 * first send happens after the pending entry's `at`, and every invocation that publishes ends (Lambda
 * timeout, lib/handlers.ts) long before 5 minutes, so **a re-publish before `at + SAFE_REPUBLISH_MS`
 * is dropped by SQS if the first went through and delivers the item if it did not** — the sweep turns
 * the ambiguous window into a proof, without asking SQS.
 * - crash (or any error) before the hold: nothing written or sent, the caller fails and the item comes
 *   again (the poller keeps its checkpoint, the webhook answers 5xx and opens an outage window);
 * - crash after the hold, before or after the send (or a send whose answer was lost, or a record
 *   that failed): the entry stays PENDING; the next sweep (one minute later) re-publishes inside the
 *   dedup window and records it: **one** message either way. A later path (replay, reconciliation poll)
 *   that comes first within those minutes publishes with the same dedup id (dropped) and records;
 * - a publisher that gave up part-way names what it queued (`queuedBeforeFailure`): those are
 *   recorded at once; the rest stay PENDING for the sweep (and the caller's retry);
 * - two paths at once (webhook and poll within the same second): both hold, both publish — FIFO dedup
 *   drops the second — and both record (idempotent).
 * Residual (docs/guarantees.md): a pending entry the sweep does not reach within `SAFE_REPUBLISH_MS`
 * of its hold (the sweep itself down for minutes right after such a death) cannot be proven either
 * way; it is published again (at-least-once: a loss is worse than a duplicate) and counted as
 * `unproven` — a duplicate only if the dead invocation's send had gone through.
 *
 * Cost per delivered message (adapters/aws/dynamo-delivered.ts): the read, and three small writes (hold,
 * record, drop) where the publish-then-record order had one.
 */
import type { InboundMessage } from '../../contracts';
import type { Clock } from '../ports';
import { queuedBeforeFailure, type InboundPublisher } from './types';

/** One item of one channel: `id` is the inbound message id (`x:tweet:<id>`, `x:dm:<id>`, `x:chat:<id>`). */
export interface DeliveredKey {
  channelId: string;
  id: string;
}

/** A delivered key, with the time its pending entry was held (that entry is dropped with the record). */
export interface RecordKey extends DeliveredKey {
  pendingAt?: Date;
}

/** A message held before its publish. */
export interface PendingEntry {
  message: InboundMessage;
  at: Date;
}

/**
 * Delivered items per channel, kept for a few days (TTL), and the messages held while they are
 * published.
 *
 * @example
 * const done = await ledger.findDelivered([{ channelId: 'ch1', id: 'x:tweet:1' }]);
 * if (!done.has(deliveredKeyOf({ channelId: 'ch1', id: 'x:tweet:1' }))) publish(...);
 */
export interface DeliveredLedger {
  /** Which of `keys` are recorded (as `deliveredKeyOf` strings). May lag a write by a moment. */
  findDelivered(keys: DeliveredKey[]): Promise<Set<string>>;
  /**
   * Records `keys` as delivered at `at`; idempotent. A key with `pendingAt` also drops its pending
   * entry. Throws when any could not be written.
   */
  record(keys: RecordKey[], at: Date): Promise<void>;
  /** Holds `messages` as pending at `at` (with their bodies), before they are published. Throws when any could not be written. */
  hold(messages: InboundMessage[], at: Date): Promise<void>;
  /** Pending entries held at or before `before` (and not expired), oldest first, at most `limit`. */
  pending(before: Date, limit: number): Promise<PendingEntry[]>;
}

export const deliveredKeyOf = (k: DeliveredKey): string => `${k.channelId}\n${k.id}`;

/**
 * How long after its hold a pending entry may be published again with no risk of a second delivery:
 * SQS FIFO drops a repeated dedup id for 5 minutes after the first accepted send, which came after the
 * hold; one minute of margin for clock skew and a slow invocation.
 */
export const SAFE_REPUBLISH_MS = 4 * 60_000;
/** Pending entries younger than this are left to the invocation that holds them (longest timeout: 55 s). */
export const SETTLE_MIN_AGE_MS = 60_000;
/** Entries one sweep settles at most (the webhook function has 10 s); the next sweep takes the rest. */
export const SETTLE_BATCH = 100;

/** What one publish did. */
export interface LedgerPublishResult {
  /** Messages put on the queue now. */
  published: InboundMessage[];
  /** Messages left out: already delivered (ledger), or repeated within the call. */
  duplicates: number;
}

/** What one sweep of the pending entries did (counts only). */
export interface SettleReport {
  /** Pending entries looked at. */
  pending: number;
  /** Already delivered (the holder died after its record, or another path recorded it): dropped. */
  alreadyDelivered: number;
  /** Published again inside the dedup window: delivered exactly once whatever the holder did. */
  republished: number;
  /** Published again after the window: delivered, and doubled if the holder's send had gone through. */
  unproven: number;
}

/** The inbound publisher with the ledger in front: `publish` delivers only what is new. */
export interface LedgerPublisher extends InboundPublisher {
  publishNew(messages: InboundMessage[]): Promise<LedgerPublishResult>;
  /** The sweep: settles pending entries older than a minute (see the timeline above). */
  settlePending(): Promise<SettleReport>;
}

export interface LedgerPublisherOptions {
  ledger: DeliveredLedger;
  publisher: InboundPublisher;
  clock: Clock;
  /**
   * Called when the messages are on the queue but recording them failed: they stay pending and the
   * next sweep settles them. The publish still succeeds: the messages ARE durably queued.
   */
  onRecordFailed?: (info: { count: number; error: unknown }) => void;
}

export function createLedgerPublisher(options: LedgerPublisherOptions): LedgerPublisher {
  const { ledger, publisher, clock } = options;

  const recordQuietly = async (keys: RecordKey[]) => {
    try {
      await ledger.record(keys, clock.now());
    } catch (error) {
      options.onRecordFailed?.({ count: keys.length, error });
    }
  };

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
      const heldAt = clock.now();
      // throws before anything is sent: the caller fails and the item comes again
      await ledger.hold(fresh, heldAt);
      const held = (m: InboundMessage): RecordKey => ({ ...keyOf(m), pendingAt: heldAt });
      try {
        await publisher.publish(fresh);
      } catch (error) {
        // what did reach the queue is delivered: record it; the rest stays pending for the sweep
        const queued = queuedBeforeFailure(error);
        if (queued.length) await recordQuietly(queued.map(held));
        throw error;
      }
      await recordQuietly(fresh.map(held));
    }
    return { published: fresh, duplicates: messages.length - fresh.length };
  }

  async function settlePending(): Promise<SettleReport> {
    const now = clock.now();
    const entries = await ledger.pending(new Date(now.getTime() - SETTLE_MIN_AGE_MS), SETTLE_BATCH);
    const report: SettleReport = {
      pending: entries.length,
      alreadyDelivered: 0,
      republished: 0,
      unproven: 0,
    };
    if (!entries.length) return report;
    const delivered = await ledger.findDelivered(entries.map((e) => keyOf(e.message)));
    const done: RecordKey[] = [];
    const again: PendingEntry[] = [];
    for (const e of entries) {
      if (delivered.has(deliveredKeyOf(e.message))) done.push({ ...keyOf(e.message), pendingAt: e.at });
      else again.push(e);
    }
    // one message per key: the oldest hold decides whether the re-publish is inside its window
    const first = new Map<string, PendingEntry>();
    for (const e of again) if (!first.has(deliveredKeyOf(e.message))) first.set(deliveredKeyOf(e.message), e);
    const messages = [...first.values()].map((e) => e.message);
    if (messages.length) await publisher.publish(messages);
    for (const e of first.values()) {
      if (now.getTime() - e.at.getTime() < SAFE_REPUBLISH_MS) report.republished++;
      else report.unproven++;
    }
    report.alreadyDelivered = done.length;
    const settled = [...done, ...again.map((e) => ({ ...keyOf(e.message), pendingAt: e.at }))];
    // a failed record leaves them pending: the next sweep finds them (delivered or not) again
    await ledger.record(settled, clock.now());
    return report;
  }

  return {
    publishNew,
    settlePending,
    async publish(messages) {
      await publishNew(messages);
    },
  };
}

const keyOf = (m: InboundMessage): DeliveredKey => ({ channelId: m.channelId, id: m.id });
