/** The price table, what X bills per call and event, budget states and plan advice (core/cost/). */
import { billableOfEvent, billablesOfCall, priceItem } from '../../../core/cost/billable';
import { projectMonth } from '../../../core/cost/meter';
import { advisePlans } from '../../../core/cost/plans';
import { applyPriceOverride, X_PRICES } from '../../../core/cost/prices';
import { budgetStatus } from '../../../core/cost/report';

describe('billablesOfCall', () => {
  it.each([
    [
      'GET',
      '/2/users/42/mentions',
      { data: [{ id: '1' }, { id: '2' }] },
      undefined,
      ['read:postRead:1', 'read:postRead:2'],
    ],
    ['GET', '/2/users/42/mentions', { meta: { result_count: 0 } }, undefined, []],
    ['GET', '/2/dm_events', { data: [{ id: '9' }] }, undefined, ['read:dmEventRead:9']],
    ['GET', '/2/dm_conversations/1-2/dm_events', { data: [{ id: '8' }] }, undefined, ['read:dmEventRead:8']],
    ['GET', '/2/users/me', { data: { id: '42' } }, undefined, ['read:userRead:42']],
    [
      'POST',
      '/2/tweets',
      {},
      JSON.stringify({ text: 'hi', reply: { in_reply_to_tweet_id: '5' } }),
      ['write:reply'],
    ],
    ['POST', '/2/tweets', {}, JSON.stringify({ text: 'see https://example.com' }), ['write:postWithUrl']],
    ['POST', '/2/tweets', {}, JSON.stringify({ text: 'plain' }), ['write:post']],
    ['POST', '/2/dm_conversations/1-2/messages', {}, '{}', ['write:dm']],
    ['POST', '/2/dm_conversations/with/7/messages', {}, '{}', ['write:dm']],
    ['POST', '/2/users/42/following', {}, '{}', ['write:follow']],
    ['POST', '/2/oauth2/token', {}, '', []],
    ['POST', '/2/activity/subscriptions', {}, '{}', []],
  ])('%s %s', (method, path, data, requestBody, expected) => {
    const items = billablesOfCall({ method, path, status: 200, data, requestBody });
    expect(
      items.map((i) => [i.type, 'kind' in i ? i.kind : '', 'id' in i ? i.id : ''].filter(Boolean).join(':')),
    ).toEqual(expected);
  });

  it('bills nothing for a failed call', () => {
    expect(
      billablesOfCall({ method: 'POST', path: '/2/tweets', status: 403, data: {}, requestBody: '{}' }),
    ).toEqual([]);
  });

  it('prices the app owner’s own mentions as Owned Reads, deduplicated as the same post', () => {
    const [item] = billablesOfCall(
      { method: 'GET', path: '/2/users/42/mentions', status: 200, data: { data: [{ id: '1' }] } },
      { appOwnerUserId: '42' },
    );
    expect(priceItem(item, X_PRICES)).toEqual({
      category: 'ownedRead',
      micros: 1000,
      dedupKey: 'postRead:1',
    });
  });
});

describe('billableOfEvent', () => {
  it('keys an event on its object; free types bill nothing', () => {
    expect(billableOfEvent({ event_type: 'post.mention.create', payload: { id: '77' } }, X_PRICES)).toEqual({
      type: 'event',
      eventType: 'post.mention.create',
      id: '77',
    });
    expect(
      billableOfEvent(
        { event_type: 'dm.received', payload: { direct_message_events: [{ id: '5' }] } },
        X_PRICES,
      ),
    ).toMatchObject({ id: '5' });
    expect(billableOfEvent({ event_type: 'dm.sent', payload: { id: '1' } }, X_PRICES)).toBeNull();
  });
});

describe('applyPriceOverride', () => {
  it('overrides single prices and marks the version', () => {
    const p = applyPriceOverride(X_PRICES, '{"reads":{"postRead":0.006},"events":{"dm.sent":0.001}}');
    expect(p.reads.postRead).toBe(6000);
    expect(p.events['dm.sent']).toBe(1000);
    expect(p.version).toBe('2026-08-13+override');
  });
  it.each([
    ['nope', 'is not valid JSON'],
    ['{"reads":{"bogus":1}}', 'reads.bogus: unknown price'],
    ['{"writes":{"dm":-1}}', 'writes.dm: must be a price'],
    ['{"other":{}}', 'other: unknown section'],
  ])('refuses %s naming the problem', (json, message) => {
    expect(() => applyPriceOverride(X_PRICES, json)).toThrow(message);
  });
});

describe('budgets and projection', () => {
  it.each([
    [null, 5, 'none'],
    [10, 5, 'ok'],
    [10, 8, 'warning'],
    [10, 10, 'exhausted'],
    [0, 0.01, 'exhausted'],
  ])('budget %p used %p → %s', (budget, used, state) => {
    expect(budgetStatus(budget, used).state).toBe(state);
  });
  it('projects the month at the measured pace', () => {
    // 10 days into a 30-day month (2026-09-11T00:00Z): $3 → $9
    expect(projectMonth(3, new Date('2026-09-11T00:00:00Z'))).toBeCloseTo(9, 6);
  });
});

describe('advisePlans', () => {
  it('prices a month of traffic per plan and ranks the drivers', () => {
    const advice = advisePlans({ postRead: 10_000, dmEventRead: 3000, reply: 500 }, X_PRICES);
    const usd = Object.fromEntries(advice.plans.map((p) => [p.plan, p.usdPerMonth]));
    expect(usd).toEqual({ payPerUse: 85, payPerUseOwnedReads: 45, basic: 200, pro: 5000 });
    expect(advice.cheapest).toBe('payPerUse');
    expect(advice.drivers.map((d) => d.driver)).toEqual(['listenMentions', 'listenDms', 'outbound']);
  });
  it('says when a legacy plan’s read cap is too small', () => {
    const advice = advisePlans({ postRead: 100_000 }, X_PRICES);
    expect(advice.plans.find((p) => p.plan === 'basic')!.fits).toBe(false);
    expect(advice.cheapest).toBe('payPerUse');
  });
});
