/**
 * The subscription lifecycle through the whole local stack (`startLocal`, as `npm start` runs it): the
 * admin API over HTTP, Sign in with X at the simulated X's authorize page, the real webhook function
 * registered at the simulated X, SQS and DynamoDB stand-ins through the real AWS SDK clients.
 *
 * The dispatcher never ticks here (1 h schedule) and the first poll after sign-in runs before anything
 * is posted, so whatever reaches the inbound queue came through the webhook path — which the simulated
 * X's delivery record confirms (each item's event answered 200 by our /x/webhook).
 */
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { compose as composePoller } from '../../../lambdas/poller/compose';
import { loadConfig as loadPollerConfig } from '../../../lambdas/poller/config';
import { compose as composeWebhook } from '../../../lambdas/webhook/compose';
import { loadConfig as loadWebhookConfig } from '../../../lambdas/webhook/config';
import { createDynamoChannelStore } from '../../../adapters/aws/dynamo-channel-store';
import { pollChannel } from '../../../core/inbound/poll';
import { useLocalStackWorld } from '../../helpers/local-stack';

jest.setTimeout(120_000);

const world = useLocalStackWorld('rtlife', { deliveryDelayMs: 200 });
const { control, adminCall, connect } = world;

async function typesAtX(userId: string): Promise<string[]> {
  const { data } = await control('GET', `/_sim/subscriptions?userId=${userId}`);
  return (data as Array<{ eventType: string }>).map((s) => s.eventType).sort();
}

/** The first inbound message whose `id` is `itemId`, received within `withinMs` (others are left). */
async function receiveItem(itemId: string, withinMs: number): Promise<any> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    const wait = Math.max(0, Math.min(1, Math.floor((deadline - Date.now()) / 1000)));
    const res = await world.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: world.stack.queues.inbound.url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: wait,
        VisibilityTimeout: 30,
      }),
    );
    for (const m of res.Messages ?? []) {
      const body = JSON.parse(m.Body!);
      await world.clients.sqs.send(
        new DeleteMessageCommand({
          QueueUrl: world.stack.queues.inbound.url,
          ReceiptHandle: m.ReceiptHandle!,
        }),
      );
      if (body.id === itemId) return body;
    }
  }
  return null;
}

/** The simulated X's record of what it delivered for an object: answered 200 by our webhook. */
async function deliveredByWebhook(objectId: string): Promise<boolean> {
  // X records the answer after our 200, which may come a moment after the message is on the queue
  for (let i = 0; i < 20; i++) {
    const { data } = await control('GET', '/_sim/deliveries');
    const ok = (data as Array<{ objectId?: string; attempts: Array<{ status: number | null }> }>).some(
      (d) => d.objectId === objectId && d.attempts.some((a) => a.status === 200),
    );
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** The event types X holds for a user once they equal `want`, or what it holds after `withinMs`. */
async function typesWithin(userId: string, want: string[], withinMs: number): Promise<string[]> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const types = await typesAtX(userId);
    if (JSON.stringify(types) === JSON.stringify(want) || Date.now() > deadline) return types;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const minutesBetween = (a: string, b: string) => (Date.parse(b) - Date.parse(a)) / 60_000;

const MENTION_TYPES = ['oauth.revoke', 'post.mention.create', 'post.reply.create'];
const ALL_TYPES = ['chat.received', 'dm.received', ...MENTION_TYPES].sort();

describe('X Activity API subscriptions per channel', () => {
  let channelId: string;
  let accountId: string;
  let customerId: string;

  beforeAll(async () => {
    ({ channelId, accountId } = await connect('acme_rt'));
    ({ id: customerId } = await control('POST', '/_sim/users', { username: 'carla_rt', name: 'Carla' }));
  });

  it('sign-in on pay-per-use creates the subscriptions and the channel says real time is on', async () => {
    expect(await typesAtX(accountId)).toEqual(ALL_TYPES);
    const health = await adminCall('GET', `/channels/${channelId}/health`);
    expect(health.body.realtime).toMatchObject({ state: 'on', reasonCode: null, mentions: true, dms: true });
    expect(health.body.realtime.subscriptions.map((s: any) => s.eventType).sort()).toEqual(ALL_TYPES);
  });

  it('with real time on, the poller only reconciles: the next poll is the slow cadence away', async () => {
    const h = await world.afterFirstPoll(channelId);
    // mentions every 15 min (XAA_RECONCILE_MENTIONS_MINUTES), DMs every 6 h: not the tier's ~1–2 min
    expect(minutesBetween(h.lastPollAt, h.nextPollAt)).toBeGreaterThan(10);
  });

  it('a subscription lost at X: reconciliation records it, the channel’s poll re-creates it', async () => {
    const { data } = await control('GET', `/_sim/subscriptions?userId=${accountId}`);
    const lost = (data as Array<{ id: string; eventType: string }>).find(
      (x) => x.eventType === 'dm.received',
    )!;
    // X drops it (as if deleted by another tool): the app's own bearer through the webhook runtime's client
    const webhook = composeWebhook(loadWebhookConfig(process.env), { clients: world.clients });
    const poller = composePoller(loadPollerConfig(process.env), { clients: world.clients });
    const { createXActivity } = await import('../../../adapters/x/x-activity');
    await createXActivity({ apiBaseUrl: world.simUrl, credentials: webhook.credentials }).delete(lost.id);
    expect(await typesAtX(accountId)).not.toContain('dm.received');

    const report = await webhook.reconcile();
    expect(report).toMatchObject({ error: null, changed: 1 });
    const recorded = await adminCall('GET', `/channels/${channelId}/health`);
    expect(recorded.body.realtime).toMatchObject({ state: 'off', reasonCode: 'not_synced', dms: false });

    const channel = await createDynamoChannelStore({
      client: world.clients.doc,
      tableName: world.stack.tableName,
    }).get(channelId);
    await poller.deps.realtime!.repair!(channel!);
    expect(await typesAtX(accountId)).toEqual(ALL_TYPES);
    const repaired = await adminCall('GET', `/channels/${channelId}/health`);
    expect(repaired.body.realtime).toMatchObject({ state: 'on', dms: true });
  });

  it('three mentions posted 4 s apart each reach the inbound queue within 3 s, by webhook', async () => {
    for (let i = 0; i < 3; i++) {
      if (i) await new Promise((r) => setTimeout(r, 4000));
      const tweet = await control('POST', '/_sim/tweets', {
        authorId: customerId,
        text: `@acme_rt help with order ${i}`,
      });
      const message = await receiveItem(`x:tweet:${tweet.id}`, 3000);
      expect(message).toMatchObject({ channelId, kind: 'mention', conversationId: tweet.conversationId });
      expect(await deliveredByWebhook(tweet.id)).toBe(true);
    }
    // health's "last event" is the webhook's, not a poll's
    const health = await adminCall('GET', `/channels/${channelId}/health`);
    expect(typeof health.body.realtime.lastEventAt).toBe('string');
    expect(Date.parse(health.body.realtime.lastEventAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('a DM reaches the inbound queue within 3 s with the right conversationId', async () => {
    const dm = await control('POST', '/_sim/dms', {
      senderId: customerId,
      recipientId: accountId,
      text: 'my parcel is late',
    });
    const message = await receiveItem(`x:dm:${dm.id}`, 3000);
    expect(message).toMatchObject({ channelId, kind: 'dm', conversationId: dm.conversationId });
    expect(await deliveredByWebhook(dm.id)).toBe(true);
  });

  it('an XChat (encrypted) message reaches the inbound queue within 5 s as an encrypted DM', async () => {
    const chat = await control('POST', '/_sim/chats', {
      senderId: customerId,
      recipientId: accountId,
      text: 'my card number is in here',
    });
    const message = await receiveItem(`x:chat:${chat.id}`, 5000);
    expect(message).toMatchObject({
      channelId,
      kind: 'dm',
      encrypted: true,
      text: '',
      author: { id: customerId },
      replyTo: { kind: 'dm', targetId: customerId },
    });
    expect(JSON.stringify(message)).not.toContain('card number');
    expect(await deliveredByWebhook(chat.id)).toBe(true);
    // health counts them (written just after the publish)
    let counted = 0;
    for (let i = 0; i < 50 && !counted; i++) {
      counted = (await adminCall('GET', `/channels/${channelId}/health`)).body.realtime.encryptedDms;
      if (!counted) await new Promise((r) => setTimeout(r, 100));
    }
    expect(counted).toBe(1);
  });

  it('switching DMs off removes the DM subscriptions at X; on again re-creates them', async () => {
    expect((await adminCall('PATCH', `/channels/${channelId}`, { listenDms: false })).status).toBe(200);
    expect(await typesAtX(accountId)).toEqual(MENTION_TYPES);
    const on = await adminCall('PATCH', `/channels/${channelId}`, { listenDms: true });
    expect(on.body.realtime).toMatchObject({ state: 'on', dms: true });
    expect(await typesAtX(accountId)).toEqual(ALL_TYPES);
  });

  it('pausing removes every subscription; resuming re-creates them', async () => {
    const paused = await adminCall('PATCH', `/channels/${channelId}`, { paused: true });
    expect(paused.body.realtime).toMatchObject({ state: 'off', reasonCode: 'paused' });
    expect(await typesAtX(accountId)).toEqual([]);
    await adminCall('PATCH', `/channels/${channelId}`, { paused: false });
    expect(await typesAtX(accountId)).toEqual(ALL_TYPES);
  });

  it('deleting the channel removes its subscriptions at X', async () => {
    expect((await adminCall('DELETE', `/channels/${channelId}`)).status).toBe(200);
    expect(await typesAtX(accountId)).toEqual([]);
  });

  it('oauth.revoke puts the channel in needs_reauth and deletes its subscriptions at once (no reconciliation runs)', async () => {
    const revoked = await connect('revoke_rt');
    expect(await typesAtX(revoked.accountId)).toEqual(ALL_TYPES);
    // the customer takes the app's access away at x.com: X sends oauth.revoke to our webhook
    await control('POST', `/_sim/users/${revoked.accountId}/revoke`);
    expect(await typesWithin(revoked.accountId, [], 5000)).toEqual([]);
    const health = await adminCall('GET', `/channels/${revoked.channelId}/health`);
    expect(health.body.status).toBe('needs_reauth');
    expect(health.body.realtime).toMatchObject({
      state: 'off',
      reasonCode: 'needs_reauth',
      subscriptions: [],
    });
  });

  it('the first 401 (X sent no oauth.revoke) puts the channel in needs_reauth and deletes its subscriptions at once', async () => {
    const expired = await connect('first401_rt');
    // the sign-in queues the channel's first poll on the stack's own poller, which repairs missing
    // subscriptions: let it end before this test removes one, and before this test's poll (its clock 16
    // minutes ahead takes over that poll's lease) races its writes
    await world.afterFirstPoll(expired.channelId);
    // X's subscription enum lacks oauth.revoke (X-API.md §9): this channel holds none
    const webhook = composeWebhook(loadWebhookConfig(process.env), { clients: world.clients });
    const { createXActivity } = await import('../../../adapters/x/x-activity');
    const { data } = await control('GET', `/_sim/subscriptions?userId=${expired.accountId}`);
    const revokeSub = (data as Array<{ id: string; eventType: string }>).find(
      (x) => x.eventType === 'oauth.revoke',
    )!;
    await createXActivity({ apiBaseUrl: world.simUrl, credentials: webhook.credentials }).delete(
      revokeSub.id,
    );
    await control('POST', `/_sim/users/${expired.accountId}/revoke`);
    // the channel's next reconciliation poll (16 minutes on) meets 401, and X refuses the refresh
    const later = { now: () => new Date(Date.now() + 16 * 60_000) };
    const poller = composePoller(loadPollerConfig(process.env), { clients: world.clients, clock: later });
    const outcome = await pollChannel(poller.deps, { channelId: expired.channelId, owner: 'test-first-401' });
    expect(outcome).toMatchObject({ status: 'skipped', reason: 'needs_reauth' });
    // the local stack's own poller may meet the 401 first (its tick runs beside this test): then it is
    // that poller's needs_reauth write that deletes the subscriptions, moments later
    expect(await typesWithin(expired.accountId, [], 5000)).toEqual([]);
    const health = await adminCall('GET', `/channels/${expired.channelId}/health`);
    expect(health.body.status).toBe('needs_reauth');
    expect(health.body.realtime).toMatchObject({
      state: 'off',
      reasonCode: 'needs_reauth',
      subscriptions: [],
    });
  });

  it('over the app-wide limit a channel stays on polling with the reason', async () => {
    await control('PUT', '/_sim/subscription-limit', { limit: 7 });
    try {
      const first = await connect('limit_one');
      expect(await typesAtX(first.accountId)).toEqual(ALL_TYPES);
      const second = await connect('limit_two');
      const health = await adminCall('GET', `/channels/${second.channelId}/health`);
      expect(health.body.status).toBe('active');
      expect(health.body.realtime).toMatchObject({ state: 'off', reasonCode: 'subscription_limit' });
      expect(health.body.realtime.reason).toMatch(/limit/);
      // that channel keeps the tier's polling cadence
      const polled = await world.afterFirstPoll(second.channelId);
      expect(minutesBetween(polled.lastPollAt, polled.nextPollAt)).toBeLessThan(3);
    } finally {
      await control('PUT', '/_sim/subscription-limit', { limit: null });
    }
  });
});
