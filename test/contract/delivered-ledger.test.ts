/**
 * The `DeliveredLedger` port's contract, run against the in-memory fake and the DynamoDB adapter on
 * DynamoDB Local (real SDK v3 client), so the fake the unit tests rely on cannot drift from the adapter.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoDeliveredLedger } from '../../adapters/aws/dynamo-delivered';
import { keys, TTL_ATTRIBUTE } from '../../adapters/aws/table';
import type { InboundMessage } from '../../contracts';
import { deliveredKeyOf, type DeliveredLedger, type PendingEntry } from '../../core/inbound/delivered';
import { FakeDeliveredLedger } from '../helpers/fakes/delivered-ledger';
import { startLocalAws, type LocalAws } from '../helpers/local-aws';
import { FakeClock } from '../helpers/fakes';

const HOUR_MS = 3600_000;

/** An inbound message as the publisher holds it (only its shape matters to the ledger). */
const message = (channelId: string, id: string): InboundMessage =>
  ({
    schemaVersion: 1,
    channelId,
    id,
    kind: id.startsWith('x:dm:') ? 'dm' : 'mention',
    text: `text of ${id} — with ünïcode`,
  }) as unknown as InboundMessage;
const TTL_HOURS = 72;

function describeDeliveredLedger(name: string, make: (clock: FakeClock) => DeliveredLedger) {
  describe(`DeliveredLedger contract: ${name}`, () => {
    let clock: FakeClock;
    let ledger: DeliveredLedger;
    let run = 0;
    // unique channel ids per test: the DynamoDB table is shared by the file
    const ch = (n: number) => `ch-${name.replace(/\W/g, '')}-${run}-${n}`;
    beforeEach(() => {
      run++;
      clock = new FakeClock();
      ledger = make(clock);
    });

    it('finds nothing before anything is recorded', async () => {
      expect(await ledger.findDelivered([{ channelId: ch(1), id: 'x:tweet:1' }])).toEqual(new Set());
    });

    it('finds exactly the recorded (channel, id) pairs', async () => {
      // Prepare
      await ledger.record(
        [
          { channelId: ch(1), id: 'x:tweet:1' },
          { channelId: ch(1), id: 'x:chat:e4f4d3fc-8bbf-4928-92eb-e5058d6bb6f6' },
        ],
        clock.now(),
      );
      // Act
      const found = await ledger.findDelivered([
        { channelId: ch(1), id: 'x:tweet:1' },
        { channelId: ch(2), id: 'x:tweet:1' },
        { channelId: ch(1), id: 'x:dm:1' },
        { channelId: ch(1), id: 'x:chat:e4f4d3fc-8bbf-4928-92eb-e5058d6bb6f6' },
      ]);
      // Assess
      expect(found).toEqual(
        new Set([
          deliveredKeyOf({ channelId: ch(1), id: 'x:tweet:1' }),
          deliveredKeyOf({ channelId: ch(1), id: 'x:chat:e4f4d3fc-8bbf-4928-92eb-e5058d6bb6f6' }),
        ]),
      );
    });

    it('treats recording twice as harmless', async () => {
      const key = { channelId: ch(1), id: 'x:dm:7' };
      await ledger.record([key, key], clock.now());
      await ledger.record([key], clock.now());
      expect((await ledger.findDelivered([key])).size).toBe(1);
    });

    it('forgets an item once its TTL has passed (even before TTL deletion ran)', async () => {
      const key = { channelId: ch(1), id: 'x:tweet:9' };
      await ledger.record([key], clock.now());
      clock.advanceMs(TTL_HOURS * HOUR_MS - 60_000);
      expect((await ledger.findDelivered([key])).size).toBe(1);
      clock.advanceMs(120_000);
      expect((await ledger.findDelivered([key])).size).toBe(0);
    });

    it('holds messages until a record names their hold, and lists the old ones oldest first', async () => {
      const mine = (list: PendingEntry[]) =>
        list.filter((e) => e.message.channelId === ch(1)).map((e) => [e.message.id, e.at.toISOString()]);
      const t0 = clock.now();
      await ledger.hold([message(ch(1), 'x:tweet:1'), message(ch(1), 'x:dm:2')], t0);
      clock.advanceMs(30_000);
      const t1 = clock.now();
      await ledger.hold([message(ch(1), 'x:tweet:3')], t1);
      // only those held at or before `before`
      expect(mine(await ledger.pending(t0, 100))).toEqual([
        ['x:dm:2', t0.toISOString()],
        ['x:tweet:1', t0.toISOString()],
      ]);
      const all = await ledger.pending(t1, 100);
      expect(mine(all)).toHaveLength(3);
      // the body comes back whole
      expect(all.find((e) => e.message.id === 'x:tweet:3')?.message).toEqual(message(ch(1), 'x:tweet:3'));
      // a record naming the hold drops it; one without `pendingAt` does not
      await ledger.record([{ channelId: ch(1), id: 'x:tweet:1', pendingAt: t0 }], clock.now());
      await ledger.record([{ channelId: ch(1), id: 'x:tweet:3' }], clock.now());
      expect(mine(await ledger.pending(t1, 100))).toEqual([
        ['x:dm:2', t0.toISOString()],
        ['x:tweet:3', t1.toISOString()],
      ]);
      expect((await ledger.pending(t1, 1)).length).toBe(1);
    });

    it('forgets a held message once its TTL has passed', async () => {
      const t0 = clock.now();
      await ledger.hold([message(ch(1), 'x:tweet:5')], t0);
      clock.advanceMs(TTL_HOURS * HOUR_MS + 60_000);
      const left = await ledger.pending(clock.now(), 100);
      expect(left.filter((e) => e.message.channelId === ch(1))).toEqual([]);
    });

    it('answers for more keys than one batch call takes (250 reads, 250 writes)', async () => {
      const many = Array.from({ length: 250 }, (_, i) => ({ channelId: ch(1), id: `x:tweet:${i + 1}` }));
      await ledger.record(
        many.filter((_, i) => i % 2 === 0),
        clock.now(),
      );
      expect((await ledger.findDelivered(many)).size).toBe(125);
    });
  });
}

describeDeliveredLedger('in-memory fake', (clock) => new FakeDeliveredLedger(clock, TTL_HOURS * HOUR_MS));

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(() => aws.stop());

describeDeliveredLedger('DynamoDB', (clock) =>
  createDynamoDeliveredLedger({
    client: aws.clients.doc,
    tableName: aws.tableName,
    ttlHours: TTL_HOURS,
    clock,
  }),
);

describe('DynamoDB delivered item', () => {
  it('carries the TTL attribute DynamoDB expires it by, in epoch seconds', async () => {
    const clock = new FakeClock();
    const ledger = createDynamoDeliveredLedger({
      client: aws.clients.doc,
      tableName: aws.tableName,
      ttlHours: 96,
      clock,
    });
    await ledger.record([{ channelId: 'ch-ttl', id: 'x:tweet:1' }], clock.now());
    const item = (
      await aws.clients.doc.send(
        new GetCommand({ TableName: aws.tableName, Key: keys.delivered('ch-ttl', 'x:tweet:1') }),
      )
    ).Item;
    expect(item?.[TTL_ATTRIBUTE]).toBe(Math.floor(clock.now().getTime() / 1000) + 96 * 3600);
  });

  it('refuses a TTL that is not a positive number of hours', () => {
    expect(() =>
      createDynamoDeliveredLedger({ client: aws.clients.doc, tableName: 't', ttlHours: 0 }),
    ).toThrow(/ttlHours/);
  });
});
