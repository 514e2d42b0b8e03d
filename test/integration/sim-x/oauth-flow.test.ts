/**
 * The connector's whole path through the simulated X with the real twitter-api-v2 client:
 * authorize page → code → me → mentions (expansions, pagination) → DMs → reply → DM → follow →
 * refresh rotation → revoke.
 */
import { ApiResponseError } from 'twitter-api-v2';
import type { SimX } from '../../../sim/x/server';
import {
  ALL_SCOPES,
  authorizeLink,
  appClient,
  control,
  signIn,
  startTestSim,
  submitAuthorize,
  userClient,
} from './helpers';
import { wireViolations } from './helpers';

describe('sim-x OAuth 2.0 and the v2 endpoints through twitter-api-v2', () => {
  let sim: SimX;
  beforeEach(async () => {
    sim = await startTestSim();
  });
  afterEach(async () => {
    await sim.stop();
    expect(wireViolations(sim)).toEqual([]);
  });

  it('renders an accessible authorize page listing scopes and simulated accounts', async () => {
    sim.createUser({ username: 'acme_help', name: 'Acme Help' });
    const page = await fetch(authorizeLink(sim).url);
    const text = await page.text();
    expect(page.status).toBe(200);
    expect(text).toContain('Acme Support');
    expect(text).toContain('Send Direct Messages for you');
    expect(text).toMatch(/<input type="radio" name="username" value="acme_help"/);
    expect(text).toContain('name="decision" value="allow"');
    expect(text).toContain('name="decision" value="deny"');
    expect(text).toContain('<legend>Sign in as</legend>');
    expect(text).not.toMatch(/<(script|link|img)\b/);
  });

  it.each([
    ['unknown client id', (q: URLSearchParams) => q.set('client_id', 'nope'), 'Unknown client_id'],
    [
      'unregistered redirect',
      (q: URLSearchParams) => q.set('redirect_uri', 'http://127.0.0.1:9/other'),
      'redirect_uri',
    ],
    ['plain PKCE', (q: URLSearchParams) => q.set('code_challenge_method', 'plain'), 'S256'],
    ['short challenge', (q: URLSearchParams) => q.set('code_challenge', 'abc'), 'code_challenge'],
  ])('refuses %s with a 400 page', async (_name, mutate, reason) => {
    const url = authorizeLink(sim).url;
    mutate(url.searchParams);
    const page = await fetch(url);
    expect(page.status).toBe(400);
    expect(await page.text()).toContain(reason);
  });

  it('offers to create an account when none exists, and Cancel redirects with access_denied', async () => {
    const link = authorizeLink(sim);
    expect(await (await fetch(link.url)).text()).toContain('No simulated account exists yet');
    const denied = await submitAuthorize(link.url, { decision: 'deny' });
    expect(denied.status).toBe(302);
    const location = new URL(denied.headers.get('location') as string);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe('st-123');
    const created = await submitAuthorize(link.url, { new_username: 'newbie', decision: 'allow' });
    expect(new URL(created.headers.get('location') as string).searchParams.get('code')).toBeTruthy();
    expect(sim.state.users.map((u) => u.username)).toEqual(['newbie']);
  });

  it('runs the connector path end to end', async () => {
    const account = sim.createUser({ username: 'acme_help', name: 'Acme Help' });
    const customer = sim.createUser({ username: 'lucia', name: 'Lucía' });
    const login = await signIn(sim, 'acme_help');
    expect(login.expiresIn).toBe(7200);
    expect(login.scope.sort()).toEqual([...ALL_SCOPES].sort());
    const client = login.client;

    const me = await client.v2.me({ 'user.fields': ['profile_image_url', 'receives_your_dm'] });
    expect(me.data).toMatchObject({
      id: account.id,
      username: 'acme_help',
      name: 'Acme Help',
      receives_your_dm: true,
    });
    expect(me.data.profile_image_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/_sim\/avatars\//);

    // 12 mentions, one with media and one long: page of 10 then 2.
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      ids.push(
        sim.createTweet({
          authorId: customer.id,
          text: `@ACME_help order ${i}`,
          mediaCount: i === 3 ? 1 : 0,
          longText: i === 5,
        }).id,
      );
    }
    sim.createTweet({ authorId: customer.id, text: 'no mention here @acme_helpdesk' });
    const timeline = await client.v2.userMentionTimeline(account.id, {
      'tweet.fields': ['author_id', 'created_at', 'conversation_id', 'attachments', 'note_tweet', 'entities'],
      expansions: ['author_id', 'attachments.media_keys'],
      'user.fields': ['username', 'name', 'profile_image_url'],
      'media.fields': ['type', 'url'],
    });
    expect(timeline.tweets.map((t) => t.id)).toEqual(ids.slice(2).reverse());
    expect(timeline.meta.next_token).toBeTruthy();
    expect(timeline.includes.users.map((u) => u.username)).toEqual(['lucia']);
    expect(timeline.tweets.find((t) => t.id === ids[3])?.attachments?.media_keys).toHaveLength(1);
    expect(timeline.includes.media[0]).toMatchObject({ type: 'photo' });
    const long = timeline.tweets.find((t) => t.id === ids[5]);
    expect(long?.note_tweet?.text.length).toBeGreaterThan(280);
    expect(long?.text.endsWith('…')).toBe(true);
    expect(timeline.tweets[0].entities?.mentions?.[0]).toMatchObject({
      username: 'ACME_help',
      id: account.id,
    });
    await timeline.fetchNext();
    expect(timeline.tweets.map((t) => t.id)).toEqual([...ids].reverse());
    expect(timeline.done).toBe(true);

    // since_id: only newer; default fields only
    const since = await client.v2.userMentionTimeline(account.id, { since_id: ids[10] });
    expect(since.tweets).toEqual([
      { id: ids[11], text: '@ACME_help order 11', edit_history_tweet_ids: [ids[11]] },
    ]);

    // DMs in and out, paginated
    for (let i = 0; i < 3; i++)
      sim.sendDm({ senderId: customer.id, recipientId: account.id, text: `dm ${i}` });
    const dms = await client.v2.listDmEvents({
      max_results: 2,
      'dm_event.fields': ['created_at', 'sender_id', 'dm_conversation_id'],
      expansions: ['sender_id'],
    });
    expect(dms.events.map((e) => (e as { text?: string }).text)).toEqual(['dm 2', 'dm 1']);
    expect(dms.events[0]).toMatchObject({ event_type: 'MessageCreate', sender_id: customer.id });
    const conversationId = [account.id, customer.id]
      .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))
      .join('-');
    expect(dms.events[0].dm_conversation_id).toBe(conversationId);
    await dms.fetchNext();
    expect(dms.events.map((e) => (e as { text?: string }).text)).toEqual(['dm 2', 'dm 1', 'dm 0']);

    // reply to a mention, DM back, follow on enterprise
    const reply = await client.v2.reply('We are on it!', ids[11]);
    expect(reply.data.text).toBe('We are on it!');
    const posted = await control(sim, 'GET', `/_sim/tweets?authorId=${account.id}`);
    expect(posted.body.data[0]).toMatchObject({
      id: reply.data.id,
      inReplyToId: ids[11],
      conversationId: ids[11],
    });
    // twitter-api-v2 types this result without the `data` envelope, but returns X's body as is.
    const dm = (await client.v2.sendDmToParticipant(customer.id, { text: 'Hi Lucía' })) as unknown as {
      data: { dm_conversation_id: string; dm_event_id: string };
    };
    expect(dm.data).toMatchObject({ dm_conversation_id: conversationId });
    const sent = await control(sim, 'GET', `/_sim/dms?senderId=${account.id}`);
    expect(sent.body.data).toEqual([
      expect.objectContaining({ id: dm.data.dm_event_id, recipientId: customer.id, text: 'Hi Lucía' }),
    ]);
    await expect(client.v2.follow(account.id, customer.id)).rejects.toMatchObject({ code: 403 });
    sim.setTier('enterprise');
    const followed = await client.v2.follow(account.id, customer.id);
    expect(followed.data).toEqual({ following: true, pending_follow: false });
    expect((await control(sim, 'GET', `/_sim/follows?userId=${account.id}`)).body.data).toEqual([
      customer.id,
    ]);

    // refresh rotates; the old refresh token is refused
    const app = appClient(sim);
    const refreshed = await app.refreshOAuth2Token(login.refreshToken as string);
    expect(refreshed.refreshToken).not.toBe(login.refreshToken);
    const reuse = await app.refreshOAuth2Token(login.refreshToken as string).catch((e: unknown) => e);
    expect(reuse).toBeInstanceOf(ApiResponseError);
    expect((reuse as ApiResponseError).code).toBe(400);
    expect((reuse as ApiResponseError).data).toMatchObject({
      error: 'invalid_request',
      error_description: 'Value passed for the token was invalid.',
    });
    expect(sim.tokenLog().map((e) => [e.alreadySpent, e.accepted])).toEqual([
      [false, true],
      [true, false],
    ]);

    // revoke: 401 afterwards with X's body
    await app.revokeOAuth2Token(refreshed.accessToken, 'access_token');
    const after = await userClient(sim, refreshed.accessToken)
      .v2.me()
      .catch((e: unknown) => e);
    expect((after as ApiResponseError).code).toBe(401);
    expect((after as ApiResponseError).data).toEqual({
      title: 'Unauthorized',
      type: 'about:blank',
      status: 401,
      detail: 'Unauthorized',
    });
  });

  it('expires access tokens on the injected clock and refuses a wrong client secret', async () => {
    sim.createUser({ username: 'acme_help', name: 'Acme Help' });
    const login = await signIn(sim, 'acme_help');
    sim.advanceClock(7200 * 1000);
    await expect(login.client.v2.me()).rejects.toMatchObject({ code: 401 });
    const bad = createBadApp(sim);
    const err = await bad.refreshOAuth2Token(login.refreshToken as string).catch((e: unknown) => e);
    expect((err as ApiResponseError).code).toBe(401);
    expect((err as ApiResponseError).data).toMatchObject({
      error: 'unauthorized_client',
      error_description: 'Missing valid authorization header',
    });
  });
});

function createBadApp(sim: SimX) {
  // Same client id, wrong secret: the app's configuration is at fault, not the user.
  const { createXAppClient } = jest.requireActual('../../../adapters/x/client');
  return createXAppClient({ apiBaseUrl: sim.url, clientId: 'test-client', clientSecret: 'wrong-secret' });
}
