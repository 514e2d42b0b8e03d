/**
 * The delivered ledger in front of the inbound publisher (core/inbound/delivered.ts): read, publish,
 * then record — nothing lost on a failed publish, one message per channel and item otherwise.
 */
import fc from 'fast-check';
import type { InboundMessage } from '../../../contracts';
import { retryable } from '../../../core/errors';
import { createLedgerPublisher } from '../../../core/inbound/delivered';
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
