/**
 * The channel's health after each outbound result: `counters.sent` / `failed`, `lastError` for failures an
 * admin must act on, and the rate windows of every X response (in-memory fakes of the ports).
 */
import { needsReauth, permanent, retryable } from '../../../core/errors';
import { POST_TWEETS } from '../../../core/outbound/endpoints';
import { sendCommand, type Delivery } from '../../../core/outbound/send';
import { makeChannel, makeDeps, reply } from './fakes';

const first = (clockNow: Date, receiveCount = 1): Delivery => ({ receiveCount, sentAt: clockNow });

function setup(c = makeChannel()) {
  const t = makeDeps();
  t.channels.items.set(c.id, c);
  return { ...t, health: t.health, stored: () => t.channels.items.get(c.id)!.health };
}

describe('channel health: messages out and errors for the admin console', () => {
  it('a sent result adds 1 to counters.sent; replays of it add nothing', async () => {
    // Prepare
    const t = setup();
    // Act
    for (let i = 0; i < 3; i++) await sendCommand(t.deps, reply(), first(t.clock.now()));
    await sendCommand(t.deps, reply({ idempotencyKey: 'other' }), first(t.clock.now()));
    // Assess
    expect(t.stored().counters).toMatchObject({ sent: 2, failed: 0 });
    expect(t.stored().lastError).toBeNull();
  });

  it.each([
    ['needs_reauth', [needsReauth('401'), needsReauth('401')], 'needs_reauth'],
    [
      'access_level',
      [permanent('access_level', 'the X API plan of this app does not include this endpoint')],
      'permanent',
    ],
    ['credits_depleted', [permanent('credits_depleted', 'X API credits are depleted')], 'permanent'],
  ])('%s → counters.failed + 1 and health.lastError says so', async (code, script, kind) => {
    const t = setup();
    t.x.script = [...script];
    const outcome = await sendCommand(t.deps, reply(), first(t.clock.now()));
    expect(outcome.action).toBe('result');
    expect(t.stored().counters.failed).toBe(1);
    expect(t.stored().lastError).toEqual({
      code,
      kind,
      message:
        outcome.action === 'result' && outcome.result.status === 'failed' && outcome.result.error.message,
      at: t.clock.now().toISOString(),
    });
  });

  it.each([
    ['duplicate_content', permanent('duplicate_content', 'dup')],
    ['target_not_found', permanent('target_not_found', 'gone')],
    ['dm_not_allowed', permanent('dm_not_allowed', 'closed')],
  ])(
    '%s (the command’s problem, not the channel’s) → counters.failed + 1, lastError untouched',
    async (_c, error) => {
      const t = setup();
      t.x.script = [error];
      await sendCommand(t.deps, reply(), first(t.clock.now()));
      expect(t.stored().counters.failed).toBe(1);
      expect(t.stored().lastError).toBeNull();
    },
  );

  it('a failure before X (key reuse) counts as failed; a wait (429) counts nothing yet', async () => {
    const t = setup();
    await sendCommand(t.deps, reply(), first(t.clock.now()));
    await sendCommand(t.deps, reply({ text: 'another body' }), first(t.clock.now()));
    t.x.script = [retryable('rate_limited', '429', new Date(t.clock.now().getTime() + 60_000))];
    await sendCommand(t.deps, reply({ idempotencyKey: 'waits' }), first(t.clock.now()));
    expect(t.stored().counters).toMatchObject({ sent: 1, failed: 1 });
  });

  it('every response’s rate-limit headers are stored per endpoint, also on a wait', async () => {
    const t = setup();
    const reset = Math.floor(t.clock.now().getTime() / 1000) + 900;
    t.x.headers = { limit: 100, remaining: 41, reset };
    t.x.script = [retryable('x_unavailable', '503')];
    const outcome = await sendCommand(t.deps, reply(), first(t.clock.now()));
    expect(outcome.action).toBe('retry');
    expect(t.stored().rateLimits[POST_TWEETS]).toEqual({
      limit: 100,
      remaining: 41,
      resetAt: new Date(reset * 1000).toISOString(),
    });
    expect(t.health.patches).toEqual([{ rateLimits: { [POST_TWEETS]: t.stored().rateLimits[POST_TWEETS] } }]);
  });

  it('an unknown channel writes no health; a failing health store never changes the result', async () => {
    const t = setup();
    await sendCommand(t.deps, reply({ channelId: 'nope' }), first(t.clock.now()));
    expect(t.health.patches).toEqual([]);
    t.health.down = true;
    const outcome = await sendCommand(t.deps, reply(), first(t.clock.now()));
    expect(outcome.action === 'result' && outcome.result.status).toBe('sent');
    expect(t.events).toContain('health_write_failed');
  });
});
