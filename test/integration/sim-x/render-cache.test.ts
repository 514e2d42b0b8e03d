/**
 * The hot read path answers from cached per-post JSON and memoised field lists; these checks pin
 * the cases where a cache could serve a stale or wrong answer: a named user created after the post
 * was first rendered, the same posts under different field sets, and a bad field list after a good one.
 */
import { ApiResponseError } from 'twitter-api-v2';
import { MENTION_FIELDS } from '../../../adapters/x/x-reader';
import type { SimX } from '../../../sim/x/server';
import { signIn, startTestSim, wireViolations } from './helpers';

interface Page {
  data?: {
    id: string;
    author_id?: string;
    created_at?: string;
    entities?: { mentions?: { username: string; id?: string }[] };
  }[];
  includes?: { users?: { id: string; username: string }[]; tweets?: { id: string }[] };
  meta: { result_count: number };
}

describe('sim-x render caches', () => {
  let sim: SimX;
  let accountId: string;
  let customerId: string;
  beforeEach(async () => {
    sim = await startTestSim();
    sim.setTier('unlimited');
    accountId = sim.createUser({ username: 'acme_help', name: 'Acme Help' }).id;
    customerId = sim.createUser({ username: 'lucia', name: 'Lucía' }).id;
  });
  afterEach(async () => {
    await sim.stop();
    expect(wireViolations(sim)).toEqual([]);
  });

  it('a mention of a user created after the first read carries that user id on the next read', async () => {
    const { client } = await signIn(sim, 'acme_help');
    const post = sim.createTweet({ authorId: customerId, text: '@acme_help ask @late_comer about it' });
    const read = () =>
      client.v2.get<Page>(`users/${accountId}/mentions`, { ...MENTION_FIELDS, max_results: 100 });

    const before = await read();
    const mentionsBefore = before.data?.find((t) => t.id === post.id)?.entities?.mentions ?? [];
    expect(mentionsBefore.map((m) => [m.username, m.id])).toEqual([
      ['acme_help', accountId],
      ['late_comer', undefined],
    ]);

    const late = sim.createUser({ username: 'late_comer', name: 'Late Comer' });
    const after = await read();
    const mentionsAfter = after.data?.find((t) => t.id === post.id)?.entities?.mentions ?? [];
    expect(mentionsAfter.map((m) => [m.username, m.id])).toEqual([
      ['acme_help', accountId],
      ['late_comer', late.id],
    ]);
    expect(after.includes?.users?.map((u) => u.username)).toEqual(['lucia']);
  });

  it('the same posts under different field sets carry exactly the fields asked for', async () => {
    const { client } = await signIn(sim, 'acme_help');
    const root = sim.createTweet({ authorId: accountId, text: 'We are open' });
    const reply = sim.createTweet({ authorId: customerId, text: 'where is my order?', inReplyToId: root.id });
    const path = `users/${accountId}/mentions`;

    const withAuthor = await client.v2.get<Page>(path, { 'tweet.fields': 'author_id' });
    const withDate = await client.v2.get<Page>(path, { 'tweet.fields': 'created_at' });
    const defaults = await client.v2.get<Page>(path, {});
    const expanded = await client.v2.get<Page>(path, { expansions: 'referenced_tweets.id' });

    expect(withAuthor.data).toEqual([expect.objectContaining({ id: reply.id, author_id: customerId })]);
    expect(withAuthor.data?.[0].created_at).toBeUndefined();
    expect(withDate.data?.[0].created_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(withDate.data?.[0].author_id).toBeUndefined();
    expect(Object.keys(defaults.data?.[0] ?? {}).sort()).toEqual(['edit_history_tweet_ids', 'id', 'text']);
    expect(defaults.includes).toBeUndefined();
    expect(expanded.includes?.tweets?.map((t) => t.id)).toEqual([root.id]);
  });

  it('a bad field list after a good one is still refused, naming the parameter', async () => {
    const { client } = await signIn(sim, 'acme_help');
    sim.createTweet({ authorId: customerId, text: '@acme_help hi' });
    const path = `users/${accountId}/mentions`;
    await client.v2.get<Page>(path, { 'tweet.fields': 'author_id' });

    const refused = await client.v2.get<Page>(path, { 'tweet.fields': 'author_id,colour' }).then(
      () => {
        throw new Error('expected a 400');
      },
      (e: unknown) => e as ApiResponseError,
    );
    expect(refused.code).toBe(400);
    expect(JSON.stringify(refused.data)).toContain('tweet.fields');
    expect(JSON.stringify(refused.data)).toContain('colour');

    const again = await client.v2.get<Page>(path, { 'tweet.fields': 'author_id' });
    expect(again.meta.result_count).toBe(1);
  });
});
