/**
 * The fixed `/_sim` control API (DESIGN.md "Local surfaces"), its 400s naming the field,
 * persistence across a restart, and the demo crowd.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCrowd } from '../../../sim/x/crowd';
import { startSimX, type SimX } from '../../../sim/x/server';
import { control, signIn, startTestSim, testClock } from './helpers';
import { wireViolations } from './helpers';

describe('sim-x control API', () => {
  let sim: SimX;
  beforeEach(async () => {
    sim = await startTestSim();
  });
  afterEach(async () => {
    await sim.stop();
    expect(wireViolations(sim)).toEqual([]);
  });

  it('creates users, posts and DMs and lists them with the fixed fields', async () => {
    const a = await control(sim, 'POST', '/_sim/users', { username: 'acme_help', name: 'Acme Help' });
    const c = await control(sim, 'POST', '/_sim/users', { username: 'lucia', name: 'Lucía' });
    expect(a.status).toBe(201);
    const root = await control(sim, 'POST', '/_sim/tweets', { authorId: c.body.id, text: '@acme_help hola' });
    expect(root.body).toEqual({ id: expect.stringMatching(/^\d+$/), conversationId: root.body.id });
    const reply = await control(sim, 'POST', '/_sim/tweets', {
      authorId: c.body.id,
      text: 'más',
      inReplyToId: root.body.id,
    });
    expect(reply.body.conversationId).toBe(root.body.id);
    expect(BigInt(reply.body.id) > BigInt(root.body.id)).toBe(true);
    const tweets = await control(sim, 'GET', `/_sim/tweets?authorId=${c.body.id}`);
    expect(tweets.body.data[1]).toEqual({
      id: reply.body.id,
      authorId: c.body.id,
      text: 'más',
      inReplyToId: root.body.id,
      conversationId: root.body.id,
      createdAt: new Date(sim.now()).toISOString(),
      media: [],
    });
    const dm = await control(sim, 'POST', '/_sim/dms', {
      senderId: c.body.id,
      recipientId: a.body.id,
      text: 'hola',
    });
    const [small, large] = [a.body.id, c.body.id].sort((x: string, y: string) =>
      BigInt(x) < BigInt(y) ? -1 : 1,
    );
    expect(dm.body.conversationId).toBe(`${small}-${large}`);
    const dms = await control(sim, 'GET', `/_sim/dms?senderId=${c.body.id}`);
    expect(dms.body.data).toEqual([
      {
        id: dm.body.id,
        senderId: c.body.id,
        recipientId: a.body.id,
        conversationId: `${small}-${large}`,
        text: 'hola',
        createdAt: expect.any(String),
        media: [],
      },
    ]);
    expect((await control(sim, 'GET', `/_sim/follows?userId=${a.body.id}`)).body).toEqual({ data: [] });
    expect((await control(sim, 'PUT', '/_sim/tier', { tier: 'basic' })).body).toEqual({ tier: 'basic' });
    expect(sim.tier()).toBe('basic');
    expect((await control(sim, 'GET', '/_sim/billing')).body).toMatchObject({
      costUsd: 0,
      reads: { posts: 0 },
    });
    expect((await control(sim, 'POST', '/_sim/clock', { advanceSeconds: 60 })).body.now).toBe(sim.now());
    expect((await control(sim, 'POST', '/_sim/reset')).status).toBe(200);
    expect(sim.state.users).toEqual([]);
    expect(sim.state.apps).toHaveLength(1);
  });

  it.each([
    ['POST', '/_sim/users', { username: 'has space', name: 'x' }, 'username'],
    ['POST', '/_sim/users', { name: 'x' }, 'username'],
    ['POST', '/_sim/tweets', { authorId: 'abc', text: 'x' }, 'authorId'],
    ['POST', '/_sim/tweets', { authorId: '1', text: '' }, 'text'],
    ['POST', '/_sim/dms', { senderId: '1', recipientId: '2' }, 'text'],
    ['PUT', '/_sim/tier', { tier: 'gold' }, 'tier'],
    ['POST', '/_sim/apps', { clientId: 'c', name: 'n', redirectUris: ['not a url'] }, 'redirectUris.0'],
    ['POST', '/_sim/clock', { advanceMs: -5 }, 'advanceMs'],
    ['POST', '/_sim/users', { username: 'ok', name: 'x', extra: 1 }, 'extra'],
  ])('%s %s with bad input → 400 naming %s', async (method, path, body, field) => {
    const res = await control(sim, method, path, body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_input', field });
  });

  it('counts requests per endpoint template', async () => {
    sim.createUser({ username: 'acme_help', name: 'Acme Help' });
    const { client } = await signIn(sim, 'acme_help');
    await client.v2.me();
    await client.v2.me();
    const res = await control(sim, 'GET', '/_sim/requests');
    expect(res.body.data).toMatchObject({ 'GET /2/users/me': 2, 'POST /2/oauth2/token': 1 });
  });

  it('the crowd mentions and DMs signed-in accounts and replies in threads', async () => {
    const account = sim.createUser({ username: 'acme_help', name: 'Acme Help' });
    await signIn(sim, 'acme_help');
    const crowd = startCrowd(sim, { ratePerMinute: 1, targets: 'all-signed-in', seed: 7 });
    crowd.stop(); // driven by step() here: no waiting on timers
    const kinds = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const event = crowd.step();
      if (!event) throw new Error('no target');
      kinds.add(event.kind);
      if (event.kind === 'mention') {
        // the account answers some mentions so that customers can reply in the thread
        sim.createTweet({ authorId: account.id, text: `reply ${i}`, inReplyToId: event.id });
      }
    }
    expect([...kinds].sort()).toEqual(['dm', 'mention', 'reply']);
    expect(sim.state.dms.every((d) => d.recipientId === account.id)).toBe(true);
  });
});

describe('sim-x persistence', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sim-x-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps users, apps, tokens, posts, DMs, follows and counters across a restart', async () => {
    const dataFile = join(dir, 'x.json');
    const clock = testClock();
    const first = await startSimX({ dataFile, clock });
    first.registerApp({
      clientId: 'test-client',
      clientSecret: 'test-client-secret-0123456789',
      name: 'Acme',
      redirectUris: ['http://127.0.0.1:9/oauth/callback'],
    });
    const account = first.createUser({ username: 'acme_help', name: 'Acme Help' });
    const customer = first.createUser({ username: 'lucia', name: 'Lucía' });
    const login = await signIn(first, 'acme_help');
    const mention = first.createTweet({ authorId: customer.id, text: '@acme_help hola' });
    first.sendDm({ senderId: customer.id, recipientId: account.id, text: 'dm' });
    first.state.follows[account.id] = [customer.id];
    await first.stop();

    const second = await startSimX({ dataFile, clock });
    try {
      const { createXUserClient } = await import('../../../adapters/x/client');
      const client = createXUserClient({ apiBaseUrl: second.url, accessToken: login.accessToken });
      const mentions = await client.v2.userMentionTimeline(account.id);
      expect(mentions.tweets.map((t) => t.id)).toEqual([mention.id]);
      expect((await client.v2.listDmEvents()).events).toHaveLength(1);
      expect(second.requests()['POST /2/oauth2/token']).toBe(1);
      expect(second.state.follows[account.id]).toEqual([customer.id]);
      // new ids keep growing after a restart
      expect(BigInt(second.createUser({ username: 'later', name: 'Later' }).id) > BigInt(mention.id)).toBe(
        true,
      );
    } finally {
      await second.stop();
    }
  });
});
