/**
 * Exactly one result per idempotency key (docs/guarantees.md): every result the sender emits is stored
 * before it goes out, so a redelivery of the message, or a second copy of the command, re-emits the same
 * bytes and never a different result. Found by randomized seed 263: a retryable `needs_reauth` failure
 * was published without being stored, and the redelivery (crash after the result send) published
 * another one with a later `at`.
 */
import { resultMessageSchema, type ResultMessage } from '../../../contracts';
import { needsReauth, retryable } from '../../../core/errors';
import { DELIVERY_UNKNOWN } from '../../../core/outbound/ports';
import { sentResult } from '../../../core/outbound/results';
import { sendCommand, type Delivery, type SendOutcome } from '../../../core/outbound/send';
import { makeChannel, makeDeps, reply } from './fakes';

const delivery = (sentAt: Date, receiveCount = 1): Delivery => ({ receiveCount, sentAt });

function expectResult(outcome: SendOutcome): ResultMessage {
  if (outcome.action !== 'result') throw new Error(`expected a result, got ${JSON.stringify(outcome)}`);
  expect(resultMessageSchema.safeParse(outcome.result).success).toBe(true);
  return outcome.result;
}

function setup(overrides: Parameters<typeof makeChannel>[0] = {}) {
  const t = makeDeps();
  t.channels.items.set('ch1', makeChannel(overrides));
  return t;
}

describe('sendCommand: one result per key, whatever the failure', () => {
  it('seed 263: an uncertain post, then tokens refused during the check at X → the redelivery and a second copy re-emit the same needs_reauth result', async () => {
    const t = setup();
    const sentAt = t.clock.now();
    t.x.script = [retryable(DELIVERY_UNKNOWN, 'timeout')];
    expect(await sendCommand(t.deps, reply(), delivery(sentAt, 1))).toMatchObject({ action: 'retry' });
    // the user revoked the app: the lookup is refused, and so is the forced refresh's retry
    t.x.lookupAnswer = needsReauth('401');
    t.clock.advanceSeconds(366);
    const first = expectResult(await sendCommand(t.deps, reply(), delivery(sentAt, 2)));
    expect(first.status === 'failed' && first.error).toMatchObject({ code: 'needs_reauth', retryable: true });
    // crash after the result send: the same message comes back later, and the case system's own copy too
    t.clock.advanceSeconds(994);
    const again = expectResult(await sendCommand(t.deps, reply(), delivery(sentAt, 3)));
    const copy = expectResult(await sendCommand(t.deps, reply(), delivery(sentAt, 1)));
    expect(JSON.stringify(again)).toBe(JSON.stringify(first));
    expect(JSON.stringify(copy)).toBe(JSON.stringify(first));
    expect(t.x.writes).toHaveLength(1);
  });

  it('a channel already marked needs_reauth → the failure is stored; a redelivery re-emits it byte for byte', async () => {
    const t = setup({ status: 'needs_reauth', statusReason: 'refused' });
    const first = expectResult(await sendCommand(t.deps, reply(), delivery(t.clock.now())));
    expect(first.status === 'failed' && first.error).toMatchObject({ code: 'needs_reauth' });
    t.clock.advanceSeconds(120);
    const again = expectResult(await sendCommand(t.deps, reply(), delivery(t.clock.now(), 2)));
    expect(JSON.stringify(again)).toBe(JSON.stringify(first));
    expect(t.x.writes).toHaveLength(0);
  });

  it('x_unavailable on the last receive, X healthy again → a second copy re-emits the failure, never a later sent', async () => {
    const t = setup();
    t.x.script = [retryable('x_unavailable', '503')];
    const first = expectResult(await sendCommand(t.deps, reply(), delivery(t.clock.now(), 10)));
    expect(first.status === 'failed' && first.error).toMatchObject({
      code: 'x_unavailable',
      retryable: true,
    });
    t.clock.advanceSeconds(900);
    const copy = expectResult(await sendCommand(t.deps, reply(), delivery(t.clock.now())));
    expect(JSON.stringify(copy)).toBe(JSON.stringify(first));
    expect(t.x.writes).toHaveLength(1);
  });

  it('the lease was taken over before completion → the stored result of the other delivery goes out, not this one', async () => {
    const t = setup();
    const complete = t.idempotency.complete.bind(t.idempotency);
    let theirs: ResultMessage | null = null;
    t.idempotency.complete = async (c, key, owner, result) => {
      // another delivery took the record over (lease ran out), found the post at X and completed first
      const cur = t.idempotency.records.get(`${c}|${key}`)!;
      t.idempotency.records.set(`${c}|${key}`, { ...cur, owner: 'other' });
      theirs = sentResult(reply(), '9001', new Date(t.clock.now().getTime() + 61_000));
      await complete(c, key, 'other', theirs);
      t.idempotency.complete = complete;
      return complete(c, key, owner, result);
    };
    const outcome = await sendCommand(t.deps, reply(), delivery(t.clock.now()));
    expect(expectResult(outcome)).toEqual(theirs);
    expect(outcome).toMatchObject({ reason: 'replayed' });
  });

  it('the lease was taken over and the other delivery is still at work → wait for its result (drop on the last receive)', async () => {
    const t = setup();
    for (const receiveCount of [1, 10]) {
      t.idempotency.records.clear();
      const complete = t.idempotency.complete.bind(t.idempotency);
      t.idempotency.complete = async (c, key, owner, result) => {
        const cur = t.idempotency.records.get(`${c}|${key}`)!;
        t.idempotency.records.set(`${c}|${key}`, { ...cur, owner: 'other' });
        t.idempotency.complete = complete;
        return complete(c, key, owner, result);
      };
      const outcome = await sendCommand(t.deps, reply(), delivery(t.clock.now(), receiveCount));
      expect(outcome).toEqual(
        receiveCount === 1
          ? { action: 'retry', delaySeconds: 60, reason: 'completion_lost' }
          : { action: 'drop', reason: 'completion_lost' },
      );
    }
  });
});
