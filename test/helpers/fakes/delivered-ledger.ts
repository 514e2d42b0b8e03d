/**
 * In-memory `DeliveredLedger`, with the adapter's semantics (adapters/aws/dynamo-delivered.ts): keys
 * expire `ttlMs` after they were recorded, recording again is harmless, held messages stay pending
 * until a record names their hold. The port's contract suite (test/contract/delivered-ledger.test.ts)
 * runs against both.
 */
import type { InboundMessage } from '../../../contracts';
import {
  deliveredKeyOf,
  type DeliveredKey,
  type DeliveredLedger,
  type PendingEntry,
  type RecordKey,
} from '../../../core/inbound/delivered';
import type { Clock } from '../../../core/ports';

export class FakeDeliveredLedger implements DeliveredLedger {
  /** key → expiry (epoch ms). */
  readonly entries = new Map<string, number>();
  /** `<held at ms>\n<key>` → the held message, its hold time and expiry. */
  readonly held = new Map<string, { message: InboundMessage; at: number; expiry: number }>();
  reads = 0;
  writes = 0;
  /** When set, `record` throws (the publish-then-record gap of the crash timeline). */
  failRecord = false;
  /** When set, `hold` throws (nothing may be sent then). */
  failHold = false;
  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = 4 * 24 * 3600_000,
  ) {}
  async findDelivered(keys: DeliveredKey[]) {
    this.reads++;
    const now = this.clock.now().getTime();
    const out = new Set<string>();
    for (const k of keys) {
      const key = deliveredKeyOf(k);
      const expiry = this.entries.get(key);
      if (expiry !== undefined && expiry > now) out.add(key);
    }
    return out;
  }
  async record(keys: RecordKey[], at: Date) {
    if (this.failRecord) throw new Error('injected: ledger unavailable');
    for (const k of keys) {
      this.writes++;
      this.entries.set(deliveredKeyOf(k), at.getTime() + this.ttlMs);
      if (k.pendingAt) this.held.delete(`${k.pendingAt.getTime()}\n${deliveredKeyOf(k)}`);
    }
  }
  async hold(messages: InboundMessage[], at: Date) {
    if (this.failHold) throw new Error('injected: ledger unavailable');
    for (const m of messages) {
      this.writes++;
      this.held.set(`${at.getTime()}\n${deliveredKeyOf(m)}`, {
        message: m,
        at: at.getTime(),
        expiry: at.getTime() + this.ttlMs,
      });
    }
  }
  async pending(before: Date, limit: number): Promise<PendingEntry[]> {
    this.reads++;
    const now = this.clock.now().getTime();
    return [...this.held.values()]
      .filter((h) => h.at <= before.getTime() && h.expiry > now)
      .sort((a, b) => a.at - b.at || deliveredKeyOf(a.message).localeCompare(deliveredKeyOf(b.message)))
      .slice(0, limit)
      .map((h) => ({ message: h.message, at: new Date(h.at) }));
  }
}
