/**
 * The `ChannelStore` port's contract (core/ports.ts), run against the shared in-memory fake and the
 * DynamoDB adapter on DynamoDB Local (real SDK v3 client): conditional create and update, the errors
 * they answer with, list order and cursors, account claims. The fake every unit test uses cannot drift
 * from the adapter.
 */
import { createDynamoChannelStore } from '../../adapters/aws/dynamo-channel-store';
import type { Channel } from '../../core/channel';
import type { ChannelError } from '../../core/errors';
import type { ChannelStore } from '../../core/ports';
import { FakeChannelStore, FakeClock, makeChannel } from '../helpers/fakes';
import { startLocalAws, type LocalAws } from '../helpers/local-aws';

/** The error a call rejected with, for assertions on kind and code. */
async function rejection(p: Promise<unknown>): Promise<ChannelError> {
  try {
    await p;
  } catch (e) {
    return e as ChannelError;
  }
  throw new Error('expected the call to reject');
}

export function describeChannelStore(name: string, make: (clock: FakeClock) => ChannelStore) {
  describe(`ChannelStore contract: ${name}`, () => {
    let clock: FakeClock;
    let store: ChannelStore;
    let run = 0;
    // ids unique per test: the DynamoDB table is shared by the file
    let prefix: string;
    const id = (n = 1) => `${prefix}-${n}`;
    beforeEach(() => {
      run++;
      prefix = `ch-${name.replace(/\W/g, '')}-${run}`;
      clock = new FakeClock('2026-09-01T10:00:00Z');
      store = make(clock);
    });

    it('reads back exactly the channel it created; an unknown id reads null', async () => {
      // Prepare
      const channel = makeChannel({ id: id(), name: 'Support', scopes: ['tweet.read'] });
      // Act
      await store.create(channel);
      // Assess
      expect(await store.get(id())).toEqual(channel);
      expect(await store.get(id(2))).toBeNull();
    });

    it('refuses to create a channel twice (permanent conflict)', async () => {
      // Prepare
      await store.create(makeChannel({ id: id() }));
      // Act
      const error = await rejection(store.create(makeChannel({ id: id(), name: 'other' })));
      // Assess
      expect(error).toMatchObject({ kind: 'permanent', code: 'conflict' });
      expect((await store.get(id()))?.name).toBeNull();
    });

    it('update at the current version applies the change, bumps the version and stamps updatedAt', async () => {
      // Prepare
      await store.create(makeChannel({ id: id(), version: 3 }));
      clock.advanceMs(5_000);
      // Act
      const updated = await store.update(id(), 3, {
        name: 'Renamed',
        status: 'paused',
        statusReason: 'admin',
      });
      // Assess
      expect(updated).toMatchObject({
        name: 'Renamed',
        status: 'paused',
        statusReason: 'admin',
        version: 4,
        updatedAt: '2026-09-01T10:00:05.000Z',
      });
      expect(await store.get(id())).toEqual(updated);
    });

    it('update leaves fields given as undefined as they are', async () => {
      // Prepare
      await store.create(makeChannel({ id: id(), name: 'Kept' }));
      // Act
      const updated = await store.update(id(), 1, { name: undefined, listenDms: false });
      // Assess
      expect(updated).toMatchObject({ name: 'Kept', listenDms: false, version: 2 });
    });

    it('update at a stale version is a retryable conflict; of an unknown channel, channel_not_found', async () => {
      // Prepare
      await store.create(makeChannel({ id: id() }));
      await store.update(id(), 1, { name: 'first' });
      // Act
      const stale = await rejection(store.update(id(), 1, { name: 'second' }));
      const missing = await rejection(store.update(id(9), 1, { name: 'x' }));
      // Assess
      expect(stale).toMatchObject({ kind: 'retryable', code: 'conflict' });
      expect(missing).toMatchObject({ kind: 'permanent', code: 'channel_not_found' });
      expect(await store.get(id())).toMatchObject({ name: 'first', version: 2 });
    });

    it('disabled reasons are set and cleared one feature at a time; a cleared one is gone', async () => {
      // Prepare
      await store.create(makeChannel({ id: id() }));
      await store.update(id(), 1, { disabled: { dms: 'not in your plan', autoFollow: 'Enterprise only' } });
      // Act
      const cleared = await store.update(id(), 2, { disabled: { dms: null, mentions: undefined } });
      // Assess
      expect(cleared.health.disabled).toEqual({ autoFollow: 'Enterprise only' });
      expect((await store.get(id()))?.health.disabled).toEqual({ autoFollow: 'Enterprise only' });
    });

    it('lists newest first; paging by cursor yields every channel once', async () => {
      // Prepare
      const created: Channel[] = [];
      for (let n = 1; n <= 5; n++) {
        const at = `2030-01-0${n}T00:00:00.000Z`;
        created.push(makeChannel({ id: id(n), createdAt: at }));
      }
      for (const c of [created[2], created[0], created[4], created[1], created[3]]) await store.create(c);
      // Act
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list({ limit: 2, cursor });
        seen.push(...page.items.map((c) => c.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor && pages < 100);
      // Assess (other tests' channels share the table: only this test's are compared)
      expect(seen.filter((s) => s.startsWith(`${prefix}-`))).toEqual([id(5), id(4), id(3), id(2), id(1)]);
      expect(new Set(seen).size).toBe(seen.length);
    });

    it('refuses a cursor it did not hand out (invalid_input naming the cursor)', async () => {
      const error = await rejection(store.list({ limit: 2, cursor: 'not-a-cursor' }));
      expect(error).toMatchObject({ kind: 'invalid_input', field: 'cursor' });
    });

    it('delete removes the channel; deleting it again is harmless', async () => {
      // Prepare
      await store.create(makeChannel({ id: id() }));
      // Act
      await store.delete(id());
      await store.delete(id());
      // Assess
      expect(await store.get(id())).toBeNull();
    });

    it('an X account binds to one channel: the same channel again is fine, another is refused naming the holder', async () => {
      // Prepare
      const account = `${prefix}-x`;
      await store.claimAccount(account, id(1));
      // Act
      await store.claimAccount(account, id(1));
      const error = await rejection(store.claimAccount(account, id(2)));
      await store.releaseAccount(account, id(2)); // not the holder: no effect
      const stillHeld = await rejection(store.claimAccount(account, id(2)));
      await store.releaseAccount(account, id(1));
      // Assess
      expect(error).toMatchObject({ kind: 'permanent', code: 'account_in_use' });
      expect(error.message).toContain(id(1));
      expect(stillHeld).toMatchObject({ code: 'account_in_use' });
      await expect(store.claimAccount(account, id(2))).resolves.toBeUndefined();
    });
  });
}

describeChannelStore('in-memory fake', (clock) => new FakeChannelStore(clock));

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(() => aws.stop());

describeChannelStore('DynamoDB', (clock) =>
  createDynamoChannelStore({ client: aws.clients.doc, tableName: aws.tableName, clock }),
);
