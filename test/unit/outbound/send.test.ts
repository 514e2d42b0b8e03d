import { resultMessageSchema, type OutboundCommand, type ResultMessage } from '../../../contracts';
import { ChannelError, needsReauth, permanent, retryable } from '../../../core/errors';
import { DELIVERY_UNKNOWN } from '../../../core/outbound/ports';
import { RETRYABLE } from '../../../core/outbound/results';
import { sendCommand, type Delivery, type SendOutcome } from '../../../core/outbound/send';
import { makeChannel, makeDeps, reply } from './fakes';

const first = (clockNow: Date, receiveCount = 1): Delivery => ({ receiveCount, sentAt: clockNow });

function expectResult(outcome: SendOutcome): ResultMessage {
  if (outcome.action !== 'result') throw new Error(`expected a result, got ${JSON.stringify(outcome)}`);
  expect(resultMessageSchema.safeParse(outcome.result).success).toBe(true);
  return outcome.result;
}

function setup(cmdChannel = makeChannel()) {
  const t = makeDeps();
  t.channels.items.set(cmdChannel.id, cmdChannel);
  return t;
}

describe('sendCommand: the happy paths', () => {
  it.each([
    ['reply', reply(), 'reply', '5001'],
    ['post', reply({ kind: 'post', targetId: undefined } as Partial<OutboundCommand>), 'post', undefined],
    ['dm to a user id', reply({ kind: 'dm', targetId: '2002' }), 'dm', '2002'],
    ['dm to a conversation', reply({ kind: 'dm', targetId: '1000-2002' }), 'dm', '1000-2002'],
  ])('%s → one write, a sent result, the record completed', async (_name, command, op, target) => {
    // Prepare
    const t = setup();
    if (command.kind === 'post') delete (command as { targetId?: string }).targetId;
    // Act
    const result = expectResult(await sendCommand(t.deps, command, first(t.clock.now())));
    // Assess
    expect(result).toMatchObject({ status: 'sent', xId: '9001', idempotencyKey: command.idempotencyKey });
    expect(t.x.writes).toEqual([{ op, target, text: command.text, token: 'token-1' }]);
    const record = await t.idempotency.get('ch1', command.idempotencyKey);
    expect(record).toMatchObject({ state: 'completed', result });
    expect(t.budget.used[op === 'dm' ? 'dm' : 'post']).toBe(1);
  });

  it('re-emits the stored result for duplicates without calling X again', async () => {
    const t = setup();
    const results: ResultMessage[] = [];
    for (let i = 0; i < 5; i++) {
      results.push(expectResult(await sendCommand(t.deps, reply(), first(t.clock.now()))));
      t.clock.advanceSeconds(30);
    }
    expect(t.x.writes).toHaveLength(1);
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
  });
});

describe('sendCommand: failures reported by X', () => {
  it.each([
    ['duplicate_content', permanent('duplicate_content', 'dup')],
    ['reply_not_allowed', permanent('reply_not_allowed', 'not summoned')],
    ['dm_not_allowed', permanent('dm_not_allowed', 'closed')],
    ['target_not_found', permanent('target_not_found', 'gone')],
    ['access_level', permanent('access_level', 'plan')],
    ['text_too_long', permanent('text_too_long', 'long')],
    ['invalid_input', permanent('invalid_input', 'bad')],
    ['credits_depleted', permanent('credits_depleted', 'no credits')],
  ])('%s → failed result with the documented retryable flag', async (code, error) => {
    const t = setup();
    t.x.script = [error];
    const result = expectResult(await sendCommand(t.deps, reply(), first(t.clock.now())));
    expect(result).toMatchObject({
      status: 'failed',
      error: { code, retryable: RETRYABLE[code as keyof typeof RETRYABLE] },
    });
    expect(t.budget.used.post).toBe(0); // X did not post: the unit is refunded
    // retryable or not, the result is stored: a redelivery re-emits it, never a second result
    const record = await t.idempotency.get('ch1', 'case-1-reply-1');
    expect(record).toMatchObject({ state: 'completed', result });
  });

  it('429 → waits until the reset (capped at 12 h), frees the key, no result', async () => {
    const t = setup();
    const reset = new Date(t.clock.now().getTime() + 600_000);
    t.x.script = [retryable('rate_limited', '429', reset)];
    const outcome = await sendCommand(t.deps, reply(), first(t.clock.now()));
    expect(outcome).toEqual({ action: 'retry', delaySeconds: 600, reason: 'rate_limited' });
    expect(await t.idempotency.get('ch1', 'case-1-reply-1')).toBeNull();
    t.clock.advanceSeconds(600); // the first reset has passed
    t.x.script = [retryable('rate_limited', '429', new Date(t.clock.now().getTime() + 86_400_000))];
    expect(await sendCommand(t.deps, reply(), first(t.clock.now()))).toMatchObject({ delaySeconds: 43_200 });
  });

  it('429 on the last receive → failed rate_limited, retryable', async () => {
    const t = setup();
    t.x.script = [retryable('rate_limited', '429', new Date(t.clock.now().getTime() + 60_000))];
    const result = expectResult(await sendCommand(t.deps, reply(), first(t.clock.now(), 10)));
    expect(result.status === 'failed' && result.error).toMatchObject({
      code: 'rate_limited',
      retryable: true,
    });
  });

  it('5xx → back-off growing per receive; on the last receive a failed x_unavailable result', async () => {
    const t = setup();
    t.x.script = [
      retryable('x_unavailable', '503'),
      retryable('x_unavailable', '503'),
      retryable('x_unavailable', '503'),
    ];
    expect(await sendCommand(t.deps, reply(), first(t.clock.now(), 1))).toMatchObject({
      action: 'retry',
      delaySeconds: 10,
    });
    expect(await sendCommand(t.deps, reply(), first(t.clock.now(), 3))).toMatchObject({
      action: 'retry',
      delaySeconds: 40,
    });
    const result = expectResult(await sendCommand(t.deps, reply(), first(t.clock.now(), 10)));
    expect(result.status === 'failed' && result.error).toMatchObject({
      code: 'x_unavailable',
      retryable: true,
    });
    expect(t.x.writes).toHaveLength(3);
  });

  it('401 → one forced refresh, then the write succeeds with the new token', async () => {
    const t = setup();
    t.x.script = [needsReauth('401')];
    const result = expectResult(await sendCommand(t.deps, reply(), first(t.clock.now())));
    expect(result.status).toBe('sent');
    expect(t.x.writes.map((w) => w.token)).toEqual(['token-1', 'token-refreshed']);
    expect(t.tokens.calls).toEqual([{}, { forceRefresh: true }]);
  });

  it('401 twice → failed needs_reauth and the channel marked needs_reauth', async () => {
    const t = setup();
    t.x.script = [needsReauth('401'), needsReauth('401')];
    const result = expectResult(await sendCommand(t.deps, reply(), first(t.clock.now())));
    expect(result.status === 'failed' && result.error).toMatchObject({
      code: 'needs_reauth',
      retryable: true,
    });
    expect(t.channels.items.get('ch1')?.status).toBe('needs_reauth');
    expect(await t.idempotency.get('ch1', 'case-1-reply-1')).toMatchObject({ state: 'completed' });
  });

  it('an unexpected error → retried with back-off, never a silent loss', async () => {
    const t = setup();
    t.x.script = [new TypeError('boom')];
    expect(await sendCommand(t.deps, reply(), first(t.clock.now()))).toMatchObject({
      action: 'retry',
      reason: 'internal',
    });
    const result = expectResult(await sendCommand(t.deps, reply(), first(t.clock.now(), 10)));
    expect(result.status).toBe('sent');
  });
});

describe('sendCommand: refused before any X call', () => {
  const long = (s: string, n: number) => s.repeat(n);
  it.each<[string, Partial<OutboundCommand>, string]>([
    ['empty text', { text: '' }, 'invalid_input'],
    ['whitespace only', { text: ' \n\t ' }, 'invalid_input'],
    ['281 Latin characters', { text: long('a', 281) }, 'text_too_long'],
    ['141 CJK characters (weight 2)', { text: long('漢', 141) }, 'text_too_long'],
    ['13 URLs (23 each = 299)', { text: long('https://example.com/x ', 13) }, 'text_too_long'],
    ['a DM of 10,001 characters', { kind: 'dm', targetId: '2002', text: long('a', 10_001) }, 'text_too_long'],
    [
      'media from a URL not on the allow-list',
      { mediaUrls: ['https://example.com/a.png'] },
      'media_source_not_allowed',
    ],
  ])('%s → %s', async (_name, change, code) => {
    const t = setup();
    const result = expectResult(await sendCommand(t.deps, reply(change), first(t.clock.now())));
    expect(result.status === 'failed' && result.error.code).toBe(code);
    expect(t.x.writes).toHaveLength(0);
    expect(t.tokens.calls).toHaveLength(0);
    expect(t.budget.used).toEqual({ dm: 0, post: 0 });
  });

  it('accepts 140 CJK characters and a 280-character reply (boundaries)', async () => {
    const t = setup();
    for (const [i, text] of [long('漢', 140), long('a', 280)].entries()) {
      const result = expectResult(
        await sendCommand(t.deps, reply({ idempotencyKey: `k${i}`, text }), first(t.clock.now())),
      );
      expect(result.status).toBe('sent');
    }
  });

  it('post on a channel with allowPosts false → post_not_allowed', async () => {
    const t = setup(makeChannel({ options: { backfillHours: 0, includeReposts: false, allowPosts: false } }));
    const cmd = {
      schema: 'x-channel.outbound.v1',
      idempotencyKey: 'p1',
      channelId: 'ch1',
      kind: 'post',
      text: 'hello',
    } as OutboundCommand;
    const result = expectResult(await sendCommand(t.deps, cmd, first(t.clock.now())));
    expect(result.status === 'failed' && result.error.code).toBe('post_not_allowed');
    expect(t.x.writes).toHaveLength(0);
  });

  it('the app-wide budget exhausted → waits until the window ends, no X call, key free', async () => {
    const t = setup();
    t.budget.limits.post = 0;
    const outcome = await sendCommand(t.deps, reply(), first(t.clock.now()));
    expect(outcome).toEqual({ action: 'retry', delaySeconds: 12 * 3600, reason: 'budget_exhausted' });
    expect(t.x.writes).toHaveLength(0);
    expect(await t.idempotency.get('ch1', 'case-1-reply-1')).toBeNull();
  });
});

describe('sendCommand: channel states', () => {
  it('unknown channel → channel_not_found', async () => {
    const t = setup();
    const result = expectResult(
      await sendCommand(t.deps, reply({ channelId: 'nope' }), first(t.clock.now())),
    );
    expect(result.status === 'failed' && result.error).toMatchObject({
      code: 'channel_not_found',
      retryable: false,
    });
  });

  it.each([
    ['needs_reauth', 'needs_reauth'],
    ['pending_auth', 'channel_not_ready'],
  ] as const)('%s → failed %s', async (status, code) => {
    const t = setup(makeChannel({ status }));
    const result = expectResult(await sendCommand(t.deps, reply(), first(t.clock.now())));
    expect(result.status === 'failed' && result.error.code).toBe(code);
    expect(t.x.writes).toHaveLength(0);
  });

  it('paused → held and re-checked, then channel_not_ready once the max hold has passed', async () => {
    const t = setup(makeChannel({ status: 'paused' }));
    const sentAt = t.clock.now();
    expect(await sendCommand(t.deps, reply(), { receiveCount: 1, sentAt })).toEqual({
      action: 'retry',
      delaySeconds: 900,
      reason: 'channel_paused',
    });
    t.clock.advanceSeconds(7200);
    const result = expectResult(await sendCommand(t.deps, reply(), { receiveCount: 2, sentAt }));
    expect(result.status === 'failed' && result.error).toMatchObject({
      code: 'channel_not_ready',
      retryable: true,
    });
    expect(t.x.writes).toHaveLength(0);
  });

  it('paused, then resumed → sent', async () => {
    const t = setup(makeChannel({ status: 'paused' }));
    expect((await sendCommand(t.deps, reply(), first(t.clock.now()))).action).toBe('retry');
    t.channels.items.set('ch1', makeChannel({ status: 'active' }));
    expect(expectResult(await sendCommand(t.deps, reply(), first(t.clock.now(), 2))).status).toBe('sent');
  });
});

describe('sendCommand: at most once per key', () => {
  it('same key, different body → key_reuse, the original untouched', async () => {
    const t = setup();
    await sendCommand(t.deps, reply(), first(t.clock.now()));
    const result = expectResult(
      await sendCommand(t.deps, reply({ text: 'something else' }), first(t.clock.now())),
    );
    expect(result.status === 'failed' && result.error).toMatchObject({ code: 'key_reuse', retryable: false });
    expect(t.x.writes).toHaveLength(1);
    expect((await t.idempotency.get('ch1', 'case-1-reply-1'))?.result?.status).toBe('sent');
  });

  it('a live lease held by another delivery → wait for it; on the last receive drop the duplicate', async () => {
    const t = setup();
    await t.idempotency.claim(
      'ch1',
      'case-1-reply-1',
      {
        bodyHash: (await import('../../../core/outbound/fingerprint')).commandBodyHash(reply()),
        owner: 'other',
        leaseExpiresAt: new Date(t.clock.now().getTime() + 30_000).toISOString(),
        attemptStartedAt: t.clock.now().toISOString(),
        uncertain: false,
      },
      null,
    );
    expect(await sendCommand(t.deps, reply(), first(t.clock.now()))).toEqual({
      action: 'retry',
      delaySeconds: 31,
      reason: 'in_flight_elsewhere',
    });
    expect(await sendCommand(t.deps, reply(), first(t.clock.now(), 10))).toEqual({
      action: 'drop',
      reason: 'in_flight_elsewhere',
    });
    expect(t.x.writes).toHaveLength(0);
  });

  it('crash between X answer and completion → the redelivery finds the post at X and reports it', async () => {
    const t = setup();
    t.x.script = ['ok'];
    const crashing = {
      ...t.deps,
      writerFor: (token: string) => {
        const w = t.x.writerFor(token);
        return {
          ...w,
          reply: async (text: string, id: string) => {
            const r = await w.reply(text, id);
            t.idempotency.down = true;
            return r;
          },
        };
      },
    };
    await expect(sendCommand(crashing, reply(), first(t.clock.now()))).rejects.toThrow('simulated crash');
    t.idempotency.down = false;
    expect(t.x.writes).toHaveLength(1);
    // the redelivery comes within the lease: it waits
    expect((await sendCommand(t.deps, reply(), first(t.clock.now(), 2))).action).toBe('retry');
    t.clock.advanceSeconds(120);
    t.x.lookupAnswer = { status: 'found', xId: '9001' };
    const result = expectResult(await sendCommand(t.deps, reply(), first(t.clock.now(), 3)));
    expect(result).toMatchObject({ status: 'sent', xId: '9001' });
    expect(t.x.writes).toHaveLength(1);
    expect(t.x.lookups[0]).toMatchObject({
      accountId: '1000',
      kind: 'reply',
      targetId: '5001',
      text: reply().text,
    });
  });

  it('the completion could not be stored → marked uncertain; the redelivery checks X at once', async () => {
    const t = setup();
    t.idempotency.crashOnComplete = true;
    expect(await sendCommand(t.deps, reply(), first(t.clock.now()))).toMatchObject({
      action: 'retry',
      reason: 'internal',
    });
    t.x.lookupAnswer = { status: 'found', xId: '9001' };
    expect(expectResult(await sendCommand(t.deps, reply(), first(t.clock.now(), 2)))).toMatchObject({
      status: 'sent',
      xId: '9001',
    });
    expect(t.x.writes).toHaveLength(1);
  });

  it('X did not answer the write → next delivery checks X first: not found → posts once', async () => {
    const t = setup();
    t.x.script = [retryable(DELIVERY_UNKNOWN, 'timeout')];
    expect(await sendCommand(t.deps, reply(), first(t.clock.now()))).toMatchObject({ action: 'retry' });
    expect((await t.idempotency.get('ch1', 'case-1-reply-1'))?.uncertain).toBe(true);
    t.x.lookupAnswer = { status: 'not_found' };
    const result = expectResult(await sendCommand(t.deps, reply(), first(t.clock.now(), 2)));
    expect(result.status).toBe('sent');
    expect(t.x.writes).toHaveLength(2);
    expect(t.x.lookups).toHaveLength(1);
  });

  it('X cannot tell → unknown_delivery_state, never a blind second post', async () => {
    const t = setup();
    t.x.script = [retryable(DELIVERY_UNKNOWN, 'timeout')];
    await sendCommand(t.deps, reply(), first(t.clock.now()));
    t.x.lookupAnswer = { status: 'unknown', reason: 'lookup refused' };
    const result = expectResult(await sendCommand(t.deps, reply(), first(t.clock.now(), 2)));
    expect(result.status === 'failed' && result.error).toMatchObject({
      code: 'unknown_delivery_state',
      retryable: false,
    });
    expect(t.x.writes).toHaveLength(1);
    // and it is the stored answer from now on
    expect(expectResult(await sendCommand(t.deps, reply(), first(t.clock.now(), 3)))).toEqual(result);
  });

  it('a timeout on the last receive → x_unavailable result, stored: a later delivery re-emits it, no second post', async () => {
    const t = setup();
    t.x.script = [retryable(DELIVERY_UNKNOWN, 'timeout')];
    const result = expectResult(await sendCommand(t.deps, reply(), first(t.clock.now(), 10)));
    expect(result.status === 'failed' && result.error).toMatchObject({
      code: 'x_unavailable',
      retryable: true,
    });
    expect(await t.idempotency.get('ch1', 'case-1-reply-1')).toMatchObject({ state: 'completed', result });
    t.clock.advanceSeconds(600);
    t.x.lookupAnswer = { status: 'not_found' };
    expect(expectResult(await sendCommand(t.deps, reply(), first(t.clock.now())))).toEqual(result);
    expect(t.x.writes).toHaveLength(1);
  });

  it('a lookup that hits a rate limit → retried later, nothing posted', async () => {
    const t = setup();
    t.x.script = [retryable(DELIVERY_UNKNOWN, 'timeout')];
    await sendCommand(t.deps, reply(), first(t.clock.now()));
    t.x.lookupAnswer = new ChannelError('retryable', '429', {
      code: 'rate_limited',
      notBefore: new Date(t.clock.now().getTime() + 90_000),
    });
    expect(await sendCommand(t.deps, reply(), first(t.clock.now(), 2))).toEqual({
      action: 'retry',
      delaySeconds: 90,
      reason: 'rate_limited',
    });
    expect(t.x.writes).toHaveLength(1);
    expect((await t.idempotency.get('ch1', 'case-1-reply-1'))?.uncertain).toBe(true);
  });
});
