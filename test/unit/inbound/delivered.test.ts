/**
 * The delivered ledger in front of the inbound publisher (core/inbound/delivered.ts): read, hold,
 * publish, record — nothing lost on a failed publish, one message per channel and item otherwise, and
 * a death anywhere between the hold and the record settled by the sweep inside SQS's dedup window.
 */
import fc from 'fast-check';
import type { InboundMessage } from '../../../contracts';
import { retryable } from '../../../core/errors';
import { createLedgerPublisher, SAFE_REPUBLISH_MS, SETTLE_MIN_AGE_MS } from '../../../core/inbound/delivered';
import type { InboundPublisher } from '../../../core/inbound/types';
import type { Clock } from '../../../core/ports';
import { mentionToInbound } from '../../../core/inbound/mapping';
import { FakeDeliveredLedger } from '../../helpers/fakes/delivered-ledger';
import { ACCOUNT, FakeClock, FakeInbound, INBOUND_T0, tweet } from './fakes';

const msg = (id: number, channelId = 'ch1'): InboundMessage =>
  mentionToInbound(tweet(id), {}, { channelId, account: ACCOUNT, receivedAt: '2026-01-01T01:00:00.000Z' });

function setup() {
  const clock = new FakeClock(INBOUND_T0);
  const ledger = new FakeDeliveredLedger(clock, 3600_000);
  const inbound = new FakeInbound();
  const failures: number[] = [];
  const publisher = createLedgerPublisher({
    ledger,
    publisher: inbound,
    clock,
    onRecordFailed: ({ count }) => failures.push(count),
  });
  return { clock, ledger, inbound, publisher, failures };
}

/**
 * SQS FIFO as a consumer sees it: a dedup id accepted less than 5 minutes (on `clock`) after the first
 * acceptance of that id is dropped; later it is delivered again. `dieAfterSend` makes the next publish
 * send and then fail as a dying process would (nothing after the send runs); `dieBeforeSend` fails first.
 */
class FifoQueue implements InboundPublisher {
  delivered: string[] = [];
  private firstAccepted = new Map<string, number>();
  dieAfterSend = false;
  dieBeforeSend = false;
  constructor(private readonly clock: Clock) {}
  async publish(messages: InboundMessage[]) {
    if (this.dieBeforeSend) {
      this.dieBeforeSend = false;
      throw new Error('injected: process died before the send');
    }
    const now = this.clock.now().getTime();
    for (const m of messages) {
      const id = `${m.channelId}:${m.id}`;
      const first = this.firstAccepted.get(id);
      if (first !== undefined && now - first < 5 * 60_000) continue;
      this.firstAccepted.set(id, now);
      this.delivered.push(id);
    }
    if (this.dieAfterSend) {
      this.dieAfterSend = false;
      throw new Error('injected: process died after the send');
    }
  }
}

function fifoSetup() {
  const clock = new FakeClock(INBOUND_T0);
  const ledger = new FakeDeliveredLedger(clock, 96 * 3600_000);
  const queue = new FifoQueue(clock);
  const publisher = createLedgerPublisher({ ledger, publisher: queue, clock });
  return { clock, ledger, queue, publisher };
}

describe('createLedgerPublisher: deaths between the hold and the record', () => {
  it('a death after SQS took the message and before the record: the sweep settles it inside the dedup window, a path 20 minutes later publishes nothing', async () => {
    const { clock, queue, publisher, ledger } = fifoSetup();
    queue.dieAfterSend = true;
    await expect(publisher.publish([msg(1)])).rejects.toThrow('after the send');
    expect(ledger.entries.size).toBe(0); // the record never happened
    clock.advanceMs(SETTLE_MIN_AGE_MS);
    expect(await publisher.settlePending()).toEqual({
      pending: 1,
      alreadyDelivered: 0,
      republished: 1,
      unproven: 0,
    });
    clock.advanceMs(20 * 60_000); // a reconciliation poll, far beyond SQS's window
    expect((await publisher.publishNew([msg(1)])).published).toEqual([]);
    expect(queue.delivered).toEqual(['ch1:x:tweet:1']);
    expect(ledger.held.size).toBe(0);
  });

  it('a death after the hold and before the send: the sweep delivers the message (nothing lost)', async () => {
    const { clock, queue, publisher } = fifoSetup();
    queue.dieBeforeSend = true;
    await expect(publisher.publish([msg(1), msg(2)])).rejects.toThrow('before the send');
    expect(queue.delivered).toEqual([]);
    clock.advanceMs(SETTLE_MIN_AGE_MS + 30_000);
    await publisher.settlePending();
    clock.advanceMs(6 * 60 * 60_000);
    expect((await publisher.publishNew([msg(1), msg(2)])).published).toEqual([]);
    expect(queue.delivered).toEqual(['ch1:x:tweet:1', 'ch1:x:tweet:2']);
  });

  it('leaves young entries to their holder and drops those another path recorded', async () => {
    const { clock, queue, publisher, ledger } = fifoSetup();
    queue.dieAfterSend = true;
    await expect(publisher.publish([msg(1)])).rejects.toThrow();
    clock.advanceMs(SETTLE_MIN_AGE_MS - 1_000);
    expect((await publisher.settlePending()).pending).toBe(0);
    // the replay brings it within the window: dropped by SQS, recorded (its own hold dropped)
    await publisher.publish([msg(1)]);
    clock.advanceMs(2_000);
    expect(await publisher.settlePending()).toMatchObject({
      pending: 1,
      alreadyDelivered: 1,
      republished: 0,
    });
    expect(ledger.held.size).toBe(0);
    expect(queue.delivered).toEqual(['ch1:x:tweet:1']);
  });

  it('a hold that cannot be written sends nothing', async () => {
    const { queue, publisher, ledger } = fifoSetup();
    ledger.failHold = true;
    await expect(publisher.publish([msg(1)])).rejects.toThrow('ledger unavailable');
    expect(queue.delivered).toEqual([]);
  });

  it('an entry the sweep reaches only after the safe bound is published again and counted unproven (the named residual)', async () => {
    const { clock, queue, publisher } = fifoSetup();
    queue.dieBeforeSend = true;
    await expect(publisher.publish([msg(1)])).rejects.toThrow();
    clock.advanceMs(SAFE_REPUBLISH_MS);
    expect(await publisher.settlePending()).toMatchObject({ republished: 0, unproven: 1 });
    expect(queue.delivered).toEqual(['ch1:x:tweet:1']);
  });

  it('delivers every item exactly once over any interleaving of deaths, sweeps and later paths', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            ids: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }),
            death: fc.constantFrom('none', 'before', 'after'),
            minutes: fc.integer({ min: 0, max: 20 }),
          }),
          { maxLength: 10 },
        ),
        async (calls) => {
          const { clock, queue, publisher } = fifoSetup();
          for (const call of calls) {
            queue.dieBeforeSend = call.death === 'before';
            queue.dieAfterSend = call.death === 'after';
            await publisher.publish(call.ids.map((id) => msg(id))).catch(() => undefined);
            queue.dieBeforeSend = queue.dieAfterSend = false;
            // the sweep runs every minute of the time that passes
            for (let m = 0; m < call.minutes; m++) {
              clock.advanceMs(60_000);
              await publisher.settlePending();
            }
          }
          clock.advanceMs(2 * 60_000);
          await publisher.settlePending();
          const ids = [...new Set(calls.flatMap((c) => c.ids))];
          // the safety net brings everything again, hours later
          clock.advanceMs(3 * 3600_000);
          await publisher.publish(ids.map((id) => msg(id)));
          expect([...queue.delivered].sort()).toEqual(ids.map((id) => `ch1:x:tweet:${id}`).sort());
        },
      ),
    );
  });
});

describe('createLedgerPublisher', () => {
  it('publishes only items not delivered to that channel yet, oldest first', async () => {
    const { publisher, inbound } = setup();
    await publisher.publish([msg(1), msg(2)]);
    const result = await publisher.publishNew([msg(2), msg(3), msg(3)]);
    expect(result).toMatchObject({ duplicates: 2 });
    expect(result.published.map((m) => m.id)).toEqual(['x:tweet:3']);
    expect(inbound.received.map((m) => m.id)).toEqual(['x:tweet:1', 'x:tweet:2', 'x:tweet:3']);
  });

  it('keeps channels apart: one post for two channels is two messages', async () => {
    const { publisher } = setup();
    await publisher.publish([msg(1, 'ch1')]);
    expect((await publisher.publishNew([msg(1, 'ch2')])).published).toHaveLength(1);
  });

  it('records nothing when the publish fails, so the next path publishes it', async () => {
    const { publisher, inbound, ledger } = setup();
    inbound.failOnCall = 0;
    await expect(publisher.publish([msg(1)])).rejects.toMatchObject({ code: 'inbound_unavailable' });
    expect(ledger.entries.size).toBe(0);
    await publisher.publish([msg(1)]);
    expect(inbound.received).toHaveLength(1);
  });

  it('still succeeds when recording fails after the publish (the messages are queued), and says so', async () => {
    const { publisher, ledger, inbound, failures } = setup();
    ledger.failRecord = true;
    await publisher.publish([msg(1), msg(2)]);
    expect(inbound.received).toHaveLength(2);
    expect(failures).toEqual([2]);
  });

  it('records what a publish queued before it failed part-way, so a read after the dedup window sends only the rest', async () => {
    const { clock, ledger } = setup();
    const sent: string[] = [];
    let calls = 0;
    const partial = createLedgerPublisher({
      ledger,
      clock,
      publisher: {
        async publish(messages) {
          if (calls++ === 0) {
            // SQS took the first message and refused the second every time
            sent.push(messages[0].id);
            throw Object.assign(retryable('inbound_unavailable', 'injected'), { queued: [messages[0]] });
          }
          sent.push(...messages.map((m) => m.id));
        },
      },
    });
    await expect(partial.publish([msg(1), msg(2)])).rejects.toMatchObject({ code: 'inbound_unavailable' });
    clock.advanceMs(6 * 60_000); // past SQS FIFO's 5-minute dedup window: only the ledger stops a resend
    expect((await partial.publishNew([msg(1), msg(2)])).published.map((m) => m.id)).toEqual(['x:tweet:2']);
    expect(sent).toEqual(['x:tweet:1', 'x:tweet:2']);
  });

  it('publishes again once the TTL has passed', async () => {
    const { publisher, clock, inbound } = setup();
    await publisher.publish([msg(1)]);
    clock.advanceMs(3600_000 + 1);
    expect((await publisher.publishNew([msg(1)])).published).toHaveLength(1);
    expect(inbound.sends).toBe(2);
  });

  it('costs no ledger call when there is nothing to publish', async () => {
    const { publisher, ledger } = setup();
    await publisher.publish([]);
    expect(ledger.reads + ledger.writes).toBe(0);
  });

  it('delivers every item exactly once over any sequence of overlapping publishes and failures', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ ids: fc.array(fc.integer({ min: 1, max: 8 }), { maxLength: 5 }), fail: fc.boolean() }),
          {
            maxLength: 12,
          },
        ),
        async (calls) => {
          const { publisher, inbound } = setup();
          const wanted = new Set<number>();
          for (const call of calls) {
            inbound.failOnCall = call.fail ? inbound.publishCalls : null;
            try {
              await publisher.publish(call.ids.map((id) => msg(id)));
            } catch {
              continue; // failed: the caller retries later (below)
            }
            call.ids.forEach((id) => wanted.add(id));
          }
          inbound.failOnCall = null;
          // the safety net brings everything again
          await publisher.publish([...calls.flatMap((c) => c.ids)].map((id) => msg(id)));
          calls.flatMap((c) => c.ids).forEach((id) => wanted.add(id));
          expect(inbound.sends).toBe(wanted.size);
          expect(new Set(inbound.received.map((m) => m.id)).size).toBe(wanted.size);
        },
      ),
    );
  });
});
