/**
 * X's write rules (X-API.md §5, §6), scopes, and the pay-per-use meter (X-API.md §4), through
 * twitter-api-v2 and classified by `mapXError`.
 */
import { ApiResponseError } from 'twitter-api-v2';
import { mapXError } from '../../../adapters/x/errors';
import type { SimX } from '../../../sim/x/server';
import { CLIENT_ID, signIn, startTestSim } from './helpers';
import { wireViolations } from './helpers';

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as ApiResponseError,
  );

describe('sim-x X rules and billing', () => {
  let sim: SimX;
  let accountId: string;
  let customerId: string;
  beforeEach(async () => {
    sim = await startTestSim();
    accountId = sim.createUser({ username: 'acme_help', name: 'Acme Help' }).id;
    customerId = sim.createUser({ username: 'lucia', name: 'Lucía' }).id;
  });
  afterEach(async () => {
    await sim.stop();
    expect(wireViolations(sim)).toEqual([]);
  });

  it('refuses replies to posts that did not summon the account, duplicates and long text', async () => {
    const { client } = await signIn(sim, 'acme_help');
    const unrelated = sim.createTweet({ authorId: customerId, text: 'just talking to myself' });
    const notSummoned = await failure(client.v2.reply('hi', unrelated.id));
    expect(notSummoned.code).toBe(403);
    expect(mapXError(notSummoned, 'reply').code).toBe('reply_not_allowed');

    const mention = sim.createTweet({ authorId: customerId, text: '@acme_help help' });
    await client.v2.reply('on it', mention.id);
    const duplicate = await failure(client.v2.reply('on it', mention.id));
    expect(duplicate.data).toEqual({
      detail: 'You are not allowed to create a Tweet with duplicate content.',
      type: 'about:blank',
      title: 'Forbidden',
      status: 403,
    });
    expect(mapXError(duplicate, 'reply').code).toBe('duplicate_content');

    // 141 CJK characters weigh 282 (X-API.md §6)
    const tooLong = await failure(client.v2.reply('漢'.repeat(141), mention.id));
    expect(tooLong.code).toBe(400);
    expect(mapXError(tooLong, 'reply').code).toBe('text_too_long');
    await expect(client.v2.reply('漢'.repeat(140), mention.id)).resolves.toBeDefined();

    // Enterprise has no summoning rule
    sim.setTier('enterprise');
    await expect(client.v2.reply('hello there', unrelated.id)).resolves.toBeDefined();
  });

  it('refuses DMs to users who do not accept them and calls without the needed scope', async () => {
    const { client } = await signIn(sim, 'acme_help');
    sim.setDmAcceptance(customerId, 'following');
    const refused = await failure(client.v2.sendDmToParticipant(customerId, { text: 'hi' }));
    expect(refused.code).toBe(403);
    expect(mapXError(refused, 'dm').code).toBe('dm_not_allowed');
    const me = await client.v2.user(customerId, { 'user.fields': ['receives_your_dm'] });
    expect(me.data.receives_your_dm).toBe(false);
    // once the customer follows the account, DMs are accepted
    sim.state.follows[customerId] = [accountId];
    await expect(client.v2.sendDmToParticipant(customerId, { text: 'hi' })).resolves.toBeDefined();

    const readOnly = await signIn(sim, 'acme_help', ['tweet.read', 'users.read']);
    const noScope = await failure(readOnly.client.v2.listDmEvents());
    expect(noScope.code).toBe(403);
  });

  it('bills reads once per resource per UTC day and writes per request', async () => {
    const { client } = await signIn(sim, 'acme_help');
    const m1 = sim.createTweet({ authorId: customerId, text: '@acme_help one' });
    sim.createTweet({ authorId: customerId, text: '@acme_help two' });
    sim.sendDm({ senderId: customerId, recipientId: accountId, text: 'dm' });
    await client.v2.userMentionTimeline(accountId);
    await client.v2.userMentionTimeline(accountId);
    await client.v2.listDmEvents();
    await client.v2.me();
    await client.v2.reply('thanks', m1.id);
    await client.v2.tweet('see https://example.com/help');
    await client.v2.sendDmToParticipant(customerId, { text: 'hello' });
    expect(sim.billing()).toMatchObject({
      reads: { posts: 2, users: 1, dmEvents: 1 },
      writes: { replies: 1, postsWithUrl: 1, dms: 1, posts: 0, follows: 0 },
    });
    // 2 posts × 0.005 + 1 user 0.01 + 1 DM event 0.01 + reply 0.01 + post with URL 0.20 + DM 0.015
    expect(sim.billing().costUsd).toBeCloseTo(0.255, 6);
    // next UTC day the same posts are billed again
    sim.advanceClock(24 * 3600 * 1000);
    const next = await signIn(sim, 'acme_help'); // the 2 h access token has expired meanwhile
    await next.client.v2.userMentionTimeline(accountId);
    expect(sim.billing().reads.posts).toBe(4);
  });

  it('bills Owned Reads ($0.001) only for the app owner reading its own timeline, once per post and day', async () => {
    const app = sim.state.apps.find((a) => a.clientId === CLIENT_ID)!;
    const owner = await signIn(sim, 'acme_help');
    sim.createTweet({ authorId: customerId, text: '@acme_help one' });
    sim.createTweet({ authorId: accountId, text: 'our own post' });
    // not (yet) the owner: the usual $0.005
    await owner.client.v2.userMentionTimeline(accountId);
    expect(sim.billing().reads).toMatchObject({ posts: 1, ownedPosts: 0 });
    sim.registerApp({ ...app, ownerUserId: accountId });
    sim.createTweet({ authorId: customerId, text: '@acme_help two' });
    await owner.client.v2.userMentionTimeline(accountId); // the first post is not billed again today
    await owner.client.v2.userTimeline(accountId);
    expect(sim.billing().reads).toMatchObject({ posts: 1, ownedPosts: 2 });
    // another user reading the owner's timeline pays the usual price
    const other = await signIn(sim, 'lucia');
    sim.createTweet({ authorId: accountId, text: 'another own post' });
    await other.client.v2.userTimeline(accountId);
    expect(sim.billing().reads).toMatchObject({ posts: 2, ownedPosts: 2 });
    expect(sim.billing().costUsd).toBeCloseTo(2 * 0.005 + 2 * 0.001, 6);
    expect(sim.billing().monthPostReads).toBe(4);
  });

  it('answers 402 when pay-per-use credits are gone and 429 usage-capped at the monthly cap', async () => {
    const { client } = await signIn(sim, 'acme_help');
    sim.createTweet({ authorId: customerId, text: '@acme_help one' });
    sim.setMonthlyReadCap(1);
    await client.v2.userMentionTimeline(accountId);
    const capped = await failure(client.v2.userMentionTimeline(accountId));
    expect(capped.code).toBe(429);
    expect(capped.data).toMatchObject({ title: 'UsageCapExceeded', period: 'Monthly', scope: 'Product' });
    expect(mapXError(capped, 'read')).toMatchObject({ kind: 'permanent', code: 'credits_depleted' });

    sim.setCredits(0);
    const depleted = await failure(client.v2.me());
    expect(depleted.code).toBe(402);
    expect(depleted.data).toMatchObject({
      title: 'CreditsDepleted',
      detail: 'credits depleted',
      status: 402,
    });
    expect(mapXError(depleted, 'read').code).toBe('credits_depleted');
  });
});
