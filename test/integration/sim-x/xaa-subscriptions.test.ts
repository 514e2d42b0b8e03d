/**
 * X Activity API subscriptions on the simulated X through X's own SDK (@xdevplatform/xdk
 * ActivityClient): created with the user's OAuth 2.0 token (scope per event type), listed and
 * deleted with the app-only bearer, the app-wide limit, duplicates, plans, and the control surface.
 */
import type { SimX } from '../../../sim/x/server';
import { signIn, startTestSim, wireViolations } from './helpers';
import { appBearerToken, call, startReceiver, xdkApp, xdkUser, type Receiver } from './xaa-helpers';

describe('sim-x XAA subscriptions', () => {
  let sim: SimX;
  let receiver: Receiver;
  let bearer: string;
  let webhookId: string;
  let account: { id: string };
  let userToken: string;
  beforeEach(async () => {
    sim = await startTestSim({ crcIntervalMs: 0 });
    receiver = await startReceiver();
    bearer = await appBearerToken(sim);
    webhookId = (await xdkApp(sim, bearer).webhooks.create({ url: receiver.url })).data!.id;
    account = sim.createUser({ username: 'acme_help', name: 'Acme Help' });
    userToken = (await signIn(sim, 'acme_help')).accessToken;
  });
  afterEach(async () => {
    await sim.stop();
    await receiver.stop();
  });

  it('creates the per-channel subscriptions with the user token, lists and deletes them (XDK)', async () => {
    const user = xdkUser(sim, userToken);
    const types = ['post.mention.create', 'post.reply.create', 'dm.received', 'chat.received'] as const;
    const ids: string[] = [];
    for (const eventType of types) {
      const res = await user.activity.createSubscription({
        // XDK 0.6.6's enum predates post.reply.create (OpenAPI 2.167 has it): the wire takes the string.
        eventType: eventType as 'post.mention.create',
        filter: { userId: account.id },
        tag: 'channel-1',
        webhookId,
      });
      expect(res.data?.subscription).toMatchObject({
        eventType,
        filter: { userId: account.id },
        tag: 'channel-1',
        webhookId,
        createdAt: new Date(sim.now()).toISOString(),
      });
      ids.push(res.data!.subscription!.subscriptionId!);
    }
    // oauth.revoke is missing from the SDK's enum (X-API.md §9): a raw call, with an empty filter.
    const revoke = await call(sim, 'POST', '/2/activity/subscriptions', userToken, {
      event_type: 'oauth.revoke',
      filter: {},
      webhook_id: webhookId,
    });
    expect(revoke.status).toBe(200);
    expect(revoke.body.data.subscription.filter).toEqual({});
    expect(revoke.body.meta).toEqual({ total_subscriptions: 5 });

    const app = xdkApp(sim, bearer);
    const listed = await app.activity.getSubscriptions();
    expect(listed.data?.map((s) => s.eventType)).toEqual([...types, 'oauth.revoke']);
    const control = (await (await fetch(`${sim.url}/_sim/subscriptions?userId=${account.id}`)).json()) as {
      data: unknown[];
    };
    expect(control.data).toEqual(
      types.map((eventType, i) => ({ id: ids[i], userId: account.id, eventType, webhookId })),
    );

    await expect(app.activity.deleteSubscription(ids[0])).resolves.toEqual({
      data: { deleted: true },
      meta: { totalSubscriptions: 4 },
    });
    const bulk = await call(sim, 'DELETE', `/2/activity/subscriptions?ids=${ids[1]},${ids[2]},42`, bearer);
    expect(bulk.body).toEqual({
      data: [
        { deleted: true, subscription_id: ids[1] },
        { deleted: true, subscription_id: ids[2] },
      ],
      errors: [
        {
          subscription_id: '42',
          reason: 'SubscriptionIdInvalid',
          message: 'The subscription 42 was not found for this app.',
        },
      ],
      meta: { total_subscriptions: 2 },
    });
    const updated = await app.activity.updateSubscription(ids[3], { tag: 'renamed' });
    expect(updated.data).toMatchObject({
      subscription: { tag: 'renamed', webhookId },
      totalSubscriptions: 2,
    });
    expect(
      (
        (await (await fetch(`${sim.url}/_sim/subscriptions?userId=${account.id}`)).json()) as {
          data: unknown[];
        }
      ).data,
    ).toEqual([{ id: ids[3], userId: account.id, eventType: 'chat.received', webhookId }]);
    expect(wireViolations(sim)).toEqual([]);
  });

  it('checks the scope of the user token per event type and who the filter names', async () => {
    sim.createUser({ username: 'reader', name: 'Reader' });
    const narrow = (await signIn(sim, 'reader', ['tweet.read', 'users.read'])).accessToken;
    const reader = sim.state.users.find((u) => u.username === 'reader')!;
    const noDm = await call(sim, 'POST', '/2/activity/subscriptions', narrow, {
      event_type: 'dm.received',
      filter: { user_id: reader.id },
      webhook_id: webhookId,
    });
    expect([noDm.status, noDm.body.missing_scopes]).toEqual([403, ['dm.read']]);
    const mention = await call(sim, 'POST', '/2/activity/subscriptions', narrow, {
      event_type: 'post.mention.create',
      filter: { user_id: reader.id },
    });
    expect(mention.status).toBe(200);
    // Private events: not with the app-only bearer, not for another user.
    const asApp = await call(sim, 'POST', '/2/activity/subscriptions', bearer, {
      event_type: 'post.mention.create',
      filter: { user_id: account.id },
    });
    expect(asApp.status).toBe(403);
    expect(asApp.body.detail).toContain('private event');
    const other = await call(sim, 'POST', '/2/activity/subscriptions', narrow, {
      event_type: 'post.mention.create',
      filter: { user_id: account.id },
    });
    expect(other.status).toBe(403);
    // A public event is fine with the bearer.
    const pub = await call(sim, 'POST', '/2/activity/subscriptions', bearer, {
      event_type: 'post.create',
      filter: { user_id: account.id },
    });
    expect(pub.status).toBe(200);
  });

  it('refuses bad bodies naming the field, duplicates, unknown webhooks and the wrong token kind', async () => {
    const cases: [unknown, string][] = [
      [{ event_type: 'post.liked', filter: { user_id: account.id } }, 'event_type'],
      [{ event_type: 'dm.received' }, 'filter'],
      [{ event_type: 'dm.received', filter: { user_id: 'abc' } }, 'filter.user_id'],
      [{ event_type: 'dm.received', filter: { user_id: account.id }, extra: 1 }, 'extra'],
      [{ event_type: 'dm.received', filter: { user_id: account.id }, tag: '' }, 'tag'],
    ];
    for (const [body, field] of cases) {
      const res = await call(sim, 'POST', '/2/activity/subscriptions', userToken, body);
      expect(res.status).toBe(400);
      expect(Object.keys(res.body.errors[0].parameters)).toEqual([field]);
    }
    const unknownHook = await call(sim, 'POST', '/2/activity/subscriptions', userToken, {
      event_type: 'dm.received',
      filter: { user_id: account.id },
      webhook_id: '123',
    });
    expect([unknownHook.status, unknownHook.body.errors[0].message]).toEqual([400, 'WebhookIdInvalid']);
    const body = { event_type: 'dm.received', filter: { user_id: account.id }, webhook_id: webhookId };
    expect((await call(sim, 'POST', '/2/activity/subscriptions', userToken, body)).status).toBe(200);
    const dup = await call(sim, 'POST', '/2/activity/subscriptions', userToken, body);
    expect([dup.status, dup.body.errors[0].message]).toEqual([409, 'DuplicateSubscriptionFailed']);
    const id = sim.state.subscriptions[0].id;
    // Delete and update take the app-only bearer only (OpenAPI 2.167).
    // The SDK itself refuses to send it without a bearer token; the raw call shows X's answer.
    await expect(xdkUser(sim, userToken).activity.deleteSubscription(id)).rejects.toThrow(/BearerToken/);
    const raw = await call(sim, 'DELETE', `/2/activity/subscriptions/${id}`, userToken);
    expect(raw.status).toBe(403);
    expect(raw.body.type).toMatch(/unsupported-authentication$/);
  });

  it('holds the app-wide subscription limit (configurable) and the plans without XAA', async () => {
    sim.setSubscriptionLimit(2);
    const make = (eventType: string) =>
      call(sim, 'POST', '/2/activity/subscriptions', userToken, {
        event_type: eventType,
        filter: { user_id: account.id },
        webhook_id: webhookId,
      });
    expect((await make('post.mention.create')).status).toBe(200);
    expect((await make('post.reply.create')).status).toBe(200);
    const over = await make('dm.received');
    expect([over.status, over.body.errors[0].message]).toEqual([403, 'SubscriptionLimitExceeded']);
    const res = await fetch(`${sim.url}/_sim/subscription-limit`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ limit: null }),
    });
    expect(res.status).toBe(200);
    expect((await make('dm.received')).status).toBe(200);
    sim.setSubscriptionLimit(undefined);
    sim.setTier('pro');
    const refused = await make('chat.received');
    expect(refused.status).toBe(403);
    expect(refused.body.type).toMatch(/client-forbidden$/);
  });

  it('pages the list with max_results and next_token', async () => {
    for (const eventType of ['post.mention.create', 'post.reply.create', 'dm.received']) {
      await call(sim, 'POST', '/2/activity/subscriptions', userToken, {
        event_type: eventType,
        filter: { user_id: account.id },
      });
    }
    const first = await call(sim, 'GET', '/2/activity/subscriptions?max_results=2', bearer);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.meta.result_count).toBe(2);
    const next = await call(
      sim,
      'GET',
      `/2/activity/subscriptions?max_results=2&pagination_token=${first.body.meta.next_token}`,
      bearer,
    );
    expect(next.body.data.map((s: { event_type: string }) => s.event_type)).toEqual(['dm.received']);
    expect(next.body.meta.next_token).toBeUndefined();
    expect((await call(sim, 'GET', '/2/activity/subscriptions?max_results=0', bearer)).status).toBe(400);
    // A user token listing needs like.read and tweet.read (OpenAPI 2.167).
    const asUser = await call(sim, 'GET', '/2/activity/subscriptions', userToken);
    expect([asUser.status, asUser.body.missing_scopes]).toEqual([403, ['like.read']]);
  });
});
