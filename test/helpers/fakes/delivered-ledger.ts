/**
 * In-memory `DeliveredLedger`, with the adapter's semantics (adapters/aws/dynamo-delivered.ts): keys
 * expire `ttlMs` after they were recorded, and recording again is harmless. The port's contract suite
 * (test/contract/delivered-ledger.test.ts) runs against both.
 */
import { deliveredKeyOf, type DeliveredKey, type DeliveredLedger } from '../../../core/inbound/delivered';
import type { Clock } from '../../../core/ports';

export class FakeDeliveredLedger implements DeliveredLedger {
  /** key → expiry (epoch ms). */
  readonly entries = new Map<string, number>();
  reads = 0;
  writes = 0;
  /** When set, `record` throws (the publish-then-record gap of the crash timeline). */
  failRecord = false;
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
  async record(keys: DeliveredKey[], at: Date) {
    if (this.failRecord) throw new Error('injected: ledger unavailable');
    for (const k of keys) {
      this.writes++;
      this.entries.set(deliveredKeyOf(k), at.getTime() + this.ttlMs);
    }
  }
}
