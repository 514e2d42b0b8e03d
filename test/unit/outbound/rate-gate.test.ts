/**
 * DESIGN.md "never call again after a 429 before the reset", per channel and per X endpoint: the rate
 * gate in front of every X call of the sender, with in-memory fakes of the ports.
 */
import type { OutboundCommand, ResultMessage } from '../../../contracts';
import { retryable } from '../../../core/errors';
import {
  DM_IN_CONVERSATION,
  DM_WITH_PARTICIPANT,
  POST_TWEETS,
  USER_TWEETS,
  sharedWindowOf,
  writeEndpoint,
} from '../../../core/outbound/endpoints';
import { DELIVERY_UNKNOWN } from '../../../core/outbound/ports';
import { RecentBlocks, blockedUntil, untilAfter429 } from '../../../core/outbound/rate-gate';
import { sendCommand, type Delivery, type SendOutcome } from '../../../core/outbound/send';
import { makeChannel, makeDeps, reply } from './fakes';

const first = (clockNow: Date, receiveCount = 1): Delivery => ({ receiveCount, sentAt: clockNow });
const inSeconds = (now: Date, s: number) => new Date(now.getTime() + s * 1000);

function setup(...channels: ReturnType<typeof makeChannel>[]) {
  const t = makeDeps();
  for (const c of channels.length ? channels : [makeChannel()]) t.channels.items.set(c.id, c);
  return t;
}

function expectResult(outcome: SendOutcome): ResultMessage {
  if (outcome.action !== 'result') throw new Error(`expected a result, got ${JSON.stringify(outcome)}`);
  return outcome.result;
}

const dm = (key: string, targetId: string) => reply({ idempotencyKey: key, kind: 'dm', targetId });

describe('rate gate: after a 429, the endpoint stays closed for the channel until the reset', () => {
  it('the next command for the same account waits for the reset; no X call, no budget used', async () => {
    // Prepare
    const t = setup();
    const reset = inSeconds(t.clock.now(), 600);
    t.x.script = [retryable('rate_limited', '429', reset)];
    // Act
    const firstOutcome = await sendCommand(t.deps, reply({ idempotencyKey: 'k1' }), first(t.clock.now()));
    t.clock.advanceSeconds(5);
    const second = await sendCommand(
      t.deps,
      reply({ idempotencyKey: 'k2', targetId: '5002' }),
      first(t.clock.now()),
    );
    // Assess
    expect(firstOutcome).toEqual({ action: 'retry', delaySeconds: 600, reason: 'rate_limited' });
    expect(second).toEqual({ action: 'retry', delaySeconds: 595, reason: 'rate_limited' });
    expect(t.x.writes).toHaveLength(1);
    expect(t.budget.used.post).toBe(0);
    expect(t.channels.items.get('ch1')!.health.notBefore[POST_TWEETS]).toBe(reset.toISOString());
    expect(await t.idempotency.get('ch1', 'k2')).toBeNull(); // the key stays free for the later delivery
    expect(t.events).toContain('rate_window_closed');
  });

  it('once the reset has passed the waiting command is sent', async () => {
    const t = setup();
    t.x.script = [retryable('rate_limited', '429', inSeconds(t.clock.now(), 60))];
    await sendCommand(t.deps, reply(), first(t.clock.now()));
    t.clock.advanceSeconds(60);
    const result = expectResult(await sendCommand(t.deps, reply(), first(t.clock.now(), 2)));
    expect(result.status).toBe('sent');
    expect(t.x.writes).toHaveLength(2);
  });

  it('a 429 whose reset is not after our clock (clocks disagree) → one standard window (15 min)', async () => {
    const t = setup();
    t.x.script = [retryable('rate_limited', '429', inSeconds(t.clock.now(), -3600))];
    const outcome = await sendCommand(t.deps, reply({ idempotencyKey: 'k1' }), first(t.clock.now()));
    t.clock.advanceSeconds(899);
    const later = await sendCommand(t.deps, reply({ idempotencyKey: 'k2' }), first(t.clock.now()));
    expect(outcome).toEqual({ action: 'retry', delaySeconds: 900, reason: 'rate_limited' });
    expect(later).toEqual({ action: 'retry', delaySeconds: 1, reason: 'rate_limited' });
    expect(t.x.writes).toHaveLength(1);
  });

  it('a block stored on the channel by another instance closes the endpoint here too', async () => {
    const t = setup();
    const until = inSeconds(t.clock.now(), 120);
    t.channels.items.get('ch1')!.health.notBefore[POST_TWEETS] = until.toISOString();
    const outcome = await sendCommand(t.deps, reply(), first(t.clock.now()));
    expect(outcome).toEqual({ action: 'retry', delaySeconds: 120, reason: 'rate_limited' });
    expect(t.x.writes).toHaveLength(0);
  });

  it('the block is kept in memory when the channel write fails (health is down)', async () => {
    const t = setup();
    t.health.down = true;
    t.x.script = [retryable('rate_limited', '429', inSeconds(t.clock.now(), 300))];
    await sendCommand(t.deps, reply({ idempotencyKey: 'k1' }), first(t.clock.now()));
    const second = await sendCommand(t.deps, reply({ idempotencyKey: 'k2' }), first(t.clock.now()));
    expect(second).toMatchObject({ action: 'retry', reason: 'rate_limited', delaySeconds: 300 });
    expect(t.x.writes).toHaveLength(1);
    expect(t.events).toContain('rate_block_write_failed');
  });

  it('per channel: another account of the same app still posts', async () => {
    const t = setup(makeChannel(), makeChannel({ id: 'ch2' }));
    t.x.script = [retryable('rate_limited', '429', inSeconds(t.clock.now(), 600))];
    await sendCommand(t.deps, reply(), first(t.clock.now()));
    const other = expectResult(await sendCommand(t.deps, reply({ channelId: 'ch2' }), first(t.clock.now())));
    expect(other.status).toBe('sent');
    expect(t.channels.items.get('ch2')!.health.notBefore).toEqual({});
  });

  it('per endpoint: a DM 429 closes every DM send endpoint, replies still post', async () => {
    const t = setup();
    t.x.script = [retryable('rate_limited', '429', inSeconds(t.clock.now(), 900))];
    await sendCommand(t.deps, dm('d1', '2002'), first(t.clock.now()));
    const inConversation = await sendCommand(t.deps, dm('d2', '1000-3003'), first(t.clock.now()));
    const aReply = expectResult(
      await sendCommand(t.deps, reply({ idempotencyKey: 'r1' }), first(t.clock.now())),
    );
    expect(t.health.blocks).toEqual([
      { endpoint: DM_WITH_PARTICIPANT, until: inSeconds(t.clock.now(), 900).toISOString() },
    ]);
    expect(inConversation).toMatchObject({ action: 'retry', reason: 'rate_limited', delaySeconds: 900 });
    expect(aReply.status).toBe('sent');
    expect(t.x.writes.map((w) => w.op)).toEqual(['dm', 'reply']);
  });

  it('the closed window on the queue’s last receive → failed rate_limited (retryable), still no X call', async () => {
    const t = setup();
    t.channels.items.get('ch1')!.health.notBefore[POST_TWEETS] = inSeconds(t.clock.now(), 60).toISOString();
    const result = expectResult(await sendCommand(t.deps, reply(), first(t.clock.now(), 10)));
    expect(result.status === 'failed' && result.error).toMatchObject({
      code: 'rate_limited',
      retryable: true,
    });
    expect(t.x.writes).toHaveLength(0);
    expect(await t.idempotency.get('ch1', 'case-1-reply-1')).toMatchObject({ state: 'completed', result });
  });

  it('the lookup after an uncertain attempt waits while its read endpoint is closed', async () => {
    const t = setup();
    t.x.script = [retryable(DELIVERY_UNKNOWN, 'timeout')];
    await sendCommand(t.deps, reply(), first(t.clock.now()));
    t.channels.items.get('ch1')!.health.notBefore[USER_TWEETS] = inSeconds(t.clock.now(), 45).toISOString();
    const outcome = await sendCommand(t.deps, reply(), first(t.clock.now(), 2));
    expect(outcome).toEqual({ action: 'retry', delaySeconds: 45, reason: 'rate_limited' });
    expect(t.x.lookups).toHaveLength(0);
    expect((await t.idempotency.get('ch1', 'case-1-reply-1'))?.uncertain).toBe(true);
  });
});

describe('rate gate: a spent window (remaining 0) is waited out instead of provoking the 429', () => {
  it('remaining 0 with the reset ahead → the next command waits; the window is stored on the channel', async () => {
    // Prepare
    const t = setup();
    const reset = Math.floor(t.clock.now().getTime() / 1000) + 300;
    t.x.headers = { limit: 100, remaining: 0, reset };
    // Act
    const sent = expectResult(
      await sendCommand(t.deps, reply({ idempotencyKey: 'k1' }), first(t.clock.now())),
    );
    const next = await sendCommand(t.deps, reply({ idempotencyKey: 'k2' }), first(t.clock.now()));
    // Assess
    expect(sent.status).toBe('sent');
    expect(next).toEqual({ action: 'retry', delaySeconds: 300, reason: 'window_spent' });
    expect(t.x.writes).toHaveLength(1);
    expect(t.channels.items.get('ch1')!.health.rateLimits[POST_TWEETS]).toEqual({
      limit: 100,
      remaining: 0,
      resetAt: new Date(reset * 1000).toISOString(),
    });
  });

  it.each([
    ['remaining left', { remaining: 3, resetInSeconds: 300 }],
    ['remaining 0 but the reset passed', { remaining: 0, resetInSeconds: -1 }],
  ])('%s → sent', async (_name, w) => {
    const t = setup();
    t.channels.items.get('ch1')!.health.rateLimits[POST_TWEETS] = {
      limit: 100,
      remaining: w.remaining,
      resetAt: inSeconds(t.clock.now(), w.resetInSeconds).toISOString(),
    };
    expect(expectResult(await sendCommand(t.deps, reply(), first(t.clock.now()))).status).toBe('sent');
  });
});

describe('rate gate: pieces', () => {
  it.each<[string, OutboundCommand['kind'], string | undefined, string]>([
    ['reply', 'reply', '5001', POST_TWEETS],
    ['post', 'post', undefined, POST_TWEETS],
    ['dm to a user id', 'dm', '2002', DM_WITH_PARTICIPANT],
    ['dm into a conversation', 'dm', '1000-2002', DM_IN_CONVERSATION],
  ])('%s writes to %s', (_name, kind, target, endpoint) => {
    expect(writeEndpoint(kind, target)).toBe(endpoint);
  });

  it('DM send endpoints share one window; POST /2/tweets stands alone', () => {
    expect(sharedWindowOf(DM_IN_CONVERSATION)).toContain(DM_WITH_PARTICIPANT);
    expect(sharedWindowOf(POST_TWEETS)).toEqual([POST_TWEETS]);
  });

  it('blockedUntil takes the latest of notBefore, a spent window and the in-memory blocks', () => {
    const now = new Date('2026-09-01T10:00:00Z');
    const block = blockedUntil(
      {
        notBefore: { [POST_TWEETS]: '2026-09-01T10:01:00.000Z' },
        rateLimits: { [POST_TWEETS]: { limit: 1, remaining: 0, resetAt: '2026-09-01T10:05:00.000Z' } },
      },
      POST_TWEETS,
      now,
      { [POST_TWEETS]: '2026-09-01T10:03:00.000Z' },
    );
    expect(block).toEqual({
      endpoint: POST_TWEETS,
      until: new Date('2026-09-01T10:05:00.000Z'),
      reason: 'window_spent',
    });
    expect(blockedUntil(undefined, POST_TWEETS, now)).toBeNull();
    expect(blockedUntil({ notBefore: { [POST_TWEETS]: 'not a time' } }, POST_TWEETS, now)).toBeNull();
  });

  it('untilAfter429 keeps a reset ahead and falls back to the window otherwise', () => {
    const now = new Date('2026-09-01T10:00:00Z');
    expect(untilAfter429(new Date('2026-09-01T10:00:30Z'), now, 900)).toEqual(
      new Date('2026-09-01T10:00:30Z'),
    );
    expect(untilAfter429(undefined, now, 900)).toEqual(new Date('2026-09-01T10:15:00Z'));
    expect(untilAfter429(now, now, 900)).toEqual(new Date('2026-09-01T10:15:00Z'));
  });

  it('RecentBlocks forgets expired blocks and evicts the least recently blocked channel', () => {
    const now = new Date('2026-09-01T10:00:00Z');
    const blocks = new RecentBlocks(2);
    blocks.remember('a', POST_TWEETS, new Date('2026-09-01T10:10:00Z'));
    blocks.remember('a', POST_TWEETS, new Date('2026-09-01T10:05:00Z')); // an earlier time never shortens it
    blocks.remember('b', POST_TWEETS, new Date('2026-09-01T09:59:00Z'));
    blocks.remember('c', POST_TWEETS, new Date('2026-09-01T10:01:00Z'));
    expect(blocks.of('a', now)).toEqual({}); // evicted: 'a' was the least recently blocked of three
    expect(blocks.of('b', now)).toEqual({}); // expired
    expect(blocks.of('c', now)).toEqual({ [POST_TWEETS]: '2026-09-01T10:01:00.000Z' });
  });
});
