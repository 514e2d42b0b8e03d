/**
 * The `IdempotencyStore` port's contract (core/outbound/ports.ts), run against the in-memory fake and
 * the DynamoDB adapter on DynamoDB Local (real SDK v3 client): every write is fenced by `owner` and
 * state, and a refused write answers with the record as it was (ALL_OLD), so the fake the sender's
 * unit tests rely on cannot drift from the adapter.
 */
import { createDynamoIdempotencyStore } from '../../adapters/aws/dynamo-idempotency';
import type { ResultMessage } from '../../contracts';
import type { IdempotencyClaim, IdempotencyStore } from '../../core/outbound/ports';
import { failedResult, sentResult } from '../../core/outbound/results';
import { FakeClock, FakeIdempotencyStore } from '../helpers/fakes';
import { startLocalAws, type LocalAws } from '../helpers/local-aws';

const claimBy = (owner: string, over: Partial<IdempotencyClaim> = {}): IdempotencyClaim => ({
  bodyHash: 'sha256-of-the-body',
  owner,
  leaseExpiresAt: '2026-09-01T10:01:00.000Z',
  attemptStartedAt: '2026-09-01T10:00:00.000Z',
  uncertain: false,
  ...over,
});

export function describeIdempotencyStore(name: string, make: (clock: FakeClock) => IdempotencyStore) {
  describe(`IdempotencyStore contract: ${name}`, () => {
    let clock: FakeClock;
    let store: IdempotencyStore;
    let run = 0;
    // a channel per test: the DynamoDB table is shared by the file
    let ch: string;
    const key = 'case-42-reply-1';
    const sent = (): ResultMessage =>
      sentResult({ channelId: ch, idempotencyKey: key }, '1790000000000000001', clock.now());
    beforeEach(() => {
      run++;
      ch = `ch-${name.replace(/\W/g, '')}-${run}`;
      clock = new FakeClock('2026-09-01T10:00:00Z');
      store = make(clock);
    });

    it('reads nothing for a key never claimed', async () => {
      expect(await store.get(ch, key)).toBeNull();
    });

    it('a first claim creates an in-progress record with every field of the claim', async () => {
      // Act
      const write = await store.claim(ch, key, claimBy('attempt-a', { uncertain: true }), null);
      // Assess
      expect(write).toEqual({ ok: true });
      expect(await store.get(ch, key)).toEqual({
        channelId: ch,
        key,
        state: 'in_progress',
        ...claimBy('attempt-a', { uncertain: true }),
        result: undefined,
      });
    });

    it('a second first claim is refused and answers with the record that holds the key', async () => {
      // Prepare
      await store.claim(ch, key, claimBy('attempt-a'), null);
      // Act
      const write = await store.claim(ch, key, claimBy('attempt-b'), null);
      // Assess
      expect(write).toEqual({ ok: false, current: await store.get(ch, key) });
      expect(write.ok === false && write.current?.owner).toBe('attempt-a');
    });

    it('a take-over succeeds only against the owner it read', async () => {
      // Prepare
      await store.claim(ch, key, claimBy('attempt-a'), null);
      // Act
      const wrong = await store.claim(ch, key, claimBy('attempt-c'), 'attempt-x');
      const right = await store.claim(ch, key, claimBy('attempt-b'), 'attempt-a');
      // Assess
      expect(wrong).toMatchObject({ ok: false, current: { owner: 'attempt-a', state: 'in_progress' } });
      expect(right).toEqual({ ok: true });
      expect((await store.get(ch, key))?.owner).toBe('attempt-b');
    });

    it('a take-over of an absent record is refused with no current record', async () => {
      expect(await store.claim(ch, key, claimBy('attempt-b'), 'attempt-a')).toEqual({
        ok: false,
        current: null,
      });
    });

    it('complete by the holder stores the result byte for byte', async () => {
      // Prepare
      await store.claim(ch, key, claimBy('attempt-a'), null);
      const result = failedResult(
        { channelId: ch, idempotencyKey: key },
        'x_unavailable',
        'X: 503 → "gave up"',
        clock.now(),
        true,
      );
      // Act
      const write = await store.complete(ch, key, 'attempt-a', result);
      // Assess
      expect(write).toEqual({ ok: true });
      const stored = await store.get(ch, key);
      expect(stored?.state).toBe('completed');
      expect(JSON.stringify(stored?.result)).toBe(JSON.stringify(result));
    });

    it('complete by an attempt whose lease was taken over is refused with the completed record of the other (no re-read)', async () => {
      // Prepare
      await store.claim(ch, key, claimBy('attempt-a'), null);
      await store.claim(ch, key, claimBy('attempt-b'), 'attempt-a');
      const theirs = sent();
      await store.complete(ch, key, 'attempt-b', theirs);
      // Act
      const write = await store.complete(
        ch,
        key,
        'attempt-a',
        failedResult({ channelId: ch, idempotencyKey: key }, 'internal', 'late', clock.now()),
      );
      // Assess
      expect(write).toMatchObject({
        ok: false,
        current: { owner: 'attempt-b', state: 'completed', result: theirs },
      });
    });

    it('a completed record can be neither taken over, completed again, released nor marked uncertain', async () => {
      // Prepare
      await store.claim(ch, key, claimBy('attempt-a'), null);
      await store.complete(ch, key, 'attempt-a', sent());
      const completed = await store.get(ch, key);
      // Act
      const writes = [
        await store.claim(ch, key, claimBy('attempt-b'), 'attempt-a'),
        await store.complete(ch, key, 'attempt-a', sent()),
        await store.release(ch, key, 'attempt-a'),
        await store.markUncertain(ch, key, 'attempt-a', clock.now()),
      ];
      // Assess
      for (const write of writes) expect(write).toEqual({ ok: false, current: completed });
      expect(await store.get(ch, key)).toEqual(completed);
    });

    it('release by the holder deletes the record; by anyone else it is refused and the record stays', async () => {
      // Prepare
      await store.claim(ch, key, claimBy('attempt-a'), null);
      // Act
      const other = await store.release(ch, key, 'attempt-x');
      const holder = await store.release(ch, key, 'attempt-a');
      const again = await store.release(ch, key, 'attempt-a');
      // Assess
      expect(other).toMatchObject({ ok: false, current: { owner: 'attempt-a' } });
      expect(holder).toEqual({ ok: true });
      expect(again).toEqual({ ok: false, current: null });
      expect(await store.get(ch, key)).toBeNull();
    });

    it('markUncertain by the holder flags the record and ends its lease now; by anyone else it is refused', async () => {
      // Prepare
      await store.claim(ch, key, claimBy('attempt-a'), null);
      clock.advanceSeconds(20);
      // Act
      const other = await store.markUncertain(ch, key, 'attempt-x', clock.now());
      const holder = await store.markUncertain(ch, key, 'attempt-a', clock.now());
      // Assess
      expect(other).toMatchObject({ ok: false, current: { owner: 'attempt-a', uncertain: false } });
      expect(holder).toEqual({ ok: true });
      expect(await store.get(ch, key)).toMatchObject({
        state: 'in_progress',
        owner: 'attempt-a',
        uncertain: true,
        leaseExpiresAt: '2026-09-01T10:00:20.000Z',
      });
    });

    it('keys are per channel: the same key on another channel is another record', async () => {
      // Prepare
      await store.claim(ch, key, claimBy('attempt-a'), null);
      // Act
      const write = await store.claim(`${ch}-other`, key, claimBy('attempt-b'), null);
      // Assess
      expect(write).toEqual({ ok: true });
      expect((await store.get(ch, key))?.owner).toBe('attempt-a');
    });
  });
}

describeIdempotencyStore('in-memory fake', () => new FakeIdempotencyStore());

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(() => aws.stop());

describeIdempotencyStore('DynamoDB', (clock) =>
  createDynamoIdempotencyStore({ client: aws.clients.doc, tableName: aws.tableName, clock }),
);
