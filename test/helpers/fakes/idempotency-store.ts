/**
 * The one in-memory `IdempotencyStore`, with the DynamoDB adapter's conditions and answers
 * (adapters/aws/dynamo-idempotency.ts: a refused write returns the record as it was, like ALL_OLD);
 * test/contract/idempotency-store.test.ts runs the same suite against both.
 */
import type { ResultMessage } from '../../../contracts';
import type {
  IdempotencyClaim,
  IdempotencyRecord,
  IdempotencyStore,
  IdempotencyWrite,
} from '../../../core/outbound/ports';

export class FakeIdempotencyStore implements IdempotencyStore {
  /** Records by `${channelId}|${key}`. */
  readonly records = new Map<string, IdempotencyRecord>();
  /** Makes the next `complete` throw (the completion could not be stored). */
  crashOnComplete = false;
  /** Makes every write but `claim` throw until cleared (DynamoDB unreachable: the attempt dies holding its lease). */
  down = false;

  static keyOf = (channelId: string, key: string) => `${channelId}|${key}`;
  private k = FakeIdempotencyStore.keyOf;

  /** The answer of a refused write: the record as it was (DynamoDB's ALL_OLD). */
  private refused(c: string, key: string): IdempotencyWrite {
    const cur = this.records.get(this.k(c, key));
    return { ok: false, current: cur ? structuredClone(cur) : null };
  }

  /** The fencing condition of every write after the claim: `owner` holds it, still in progress. */
  private heldBy(c: string, key: string, owner: string): IdempotencyRecord | null {
    const cur = this.records.get(this.k(c, key));
    return cur && cur.owner === owner && cur.state === 'in_progress' ? cur : null;
  }

  async get(c: string, key: string): Promise<IdempotencyRecord | null> {
    const r = this.records.get(this.k(c, key));
    return r ? structuredClone(r) : null;
  }

  async claim(
    c: string,
    key: string,
    claim: IdempotencyClaim,
    expected: string | null,
  ): Promise<IdempotencyWrite> {
    const absent = !this.records.has(this.k(c, key));
    if (expected === null ? !absent : !this.heldBy(c, key, expected)) return this.refused(c, key);
    this.records.set(this.k(c, key), { channelId: c, key, state: 'in_progress', ...structuredClone(claim) });
    return { ok: true };
  }

  async complete(c: string, key: string, owner: string, result: ResultMessage): Promise<IdempotencyWrite> {
    if (this.down) throw new Error('simulated crash');
    if (this.crashOnComplete) {
      this.crashOnComplete = false;
      throw new Error('simulated completion failure');
    }
    const cur = this.heldBy(c, key, owner);
    if (!cur) return this.refused(c, key);
    this.records.set(this.k(c, key), { ...cur, state: 'completed', result: structuredClone(result) });
    return { ok: true };
  }

  async release(c: string, key: string, owner: string): Promise<IdempotencyWrite> {
    if (this.down) throw new Error('simulated crash');
    if (!this.heldBy(c, key, owner)) return this.refused(c, key);
    this.records.delete(this.k(c, key));
    return { ok: true };
  }

  async markUncertain(c: string, key: string, owner: string, now: Date): Promise<IdempotencyWrite> {
    if (this.down) throw new Error('simulated crash');
    const cur = this.heldBy(c, key, owner);
    if (!cur) return this.refused(c, key);
    this.records.set(this.k(c, key), { ...cur, uncertain: true, leaseExpiresAt: now.toISOString() });
    return { ok: true };
  }
}
