/**
 * XAA deliveries from the simulated X to a real receiver on loopback that verifies every signature:
 * the payload shapes per event type (X-API.md §9), delivery faults (drop, duplicate, delay), an invalid
 * webhook getting nothing, replay jobs (XDK createWebhookReplayJob), per-event billing with the UTC-day
 * rule, plans, and persistence across a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { webhookSignature, type SimX } from '../../../sim/x/server';
import { API_KEY_SECRET, CLIENT_SECRET, signIn, startTestSim, userClient, wireViolations } from './helpers';
import { appBearerToken, call, startReceiver, xdkApp, type Receiver } from './xaa-helpers';

const ALL = ['post.mention.create', 'post.reply.create', 'dm.received', 'chat.received', 'oauth.revoke'];
/** X's replay timestamps: UTC yyyymmddhhmm. */
const minute = (ms: number) => new Date(ms).toISOString().replace(/[-T:]/g, '').slice(0, 12);
const control = (sim: SimX, method: string, p: string, body?: unknown) =>
  fetch(`${sim.url}${p}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, any> }));

describe('sim-x XAA deliveries', () => {
  let sim: SimX;
  let receiver: Receiver;
  let bearer: string;
  let webhookId: string;
  let account: { id: string };
  let customer: { id: string };
  let accountToken: string;
  let stopped: boolean;

  async function world(options: Parameters<typeof startTestSim>[0] = {}) {
    sim = await startTestSim({ crcIntervalMs: 0, ...options });
    bearer = await appBearerToken(sim);
    webhookId = (await xdkApp(sim, bearer).webhooks.create({ url: receiver.url })).data!.id;
    account =
      sim.state.users.find((u) => u.username === 'acme_help') ??
      sim.createUser({ username: 'acme_help', name: 'Acme Help' });
    customer =
      sim.state.users.find((u) => u.username === 'lucia') ??
      sim.createUser({ username: 'lucia', name: 'Lucía' });
    accountToken = (await signIn(sim, 'acme_help')).accessToken;
    for (const eventType of ALL) {
      const res = await call(sim, 'POST', '/2/activity/subscriptions', accountToken, {
        event_type: eventType,
        filter: eventType === 'oauth.revoke' ? {} : { user_id: account.id },
        tag: 'channel-1',
        webhook_id: webhookId,
      });
      expect(res.status).toBe(200);
    }
    expect((await control(sim, 'PUT', '/_sim/delivery', { delayMs: 10 })).body).toEqual({
      dropRate: 0,
      duplicateRate: 0,
      delayMs: 10,
    });
  }

  beforeEach(async () => {
    receiver = await startReceiver();
    stopped = false;
  });
  afterEach(async () => {
    if (!stopped) await sim.stop();
    await receiver.stop();
  });

  it('delivers mentions and direct replies as signed v2 posts with includes, implicit mentions not as mentions', async () => {
    await world();
    const root = sim.createTweet({ authorId: account.id, text: 'We open at 9' });
    const mention = sim.createTweet({
      authorId: customer.id,
      text: '@acme_help where is my order?',
      mediaCount: 1,
    });
    const implicit = sim.createTweet({
      authorId: customer.id,
      text: 'and the invoice?',
      inReplyToId: root.id,
    });
    const both = sim.createTweet({ authorId: customer.id, text: '@acme_help thanks!', inReplyToId: root.id });
    sim.createTweet({ authorId: account.id, text: 'replying to @lucia', inReplyToId: mention.id });
    await sim.deliveriesIdle();
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    // The header is exactly X's construction, keyed by the API key secret and nothing else.
    const first = receiver.received[0];
    expect(first.signature).toBe(webhookSignature(API_KEY_SECRET, first.raw));
    expect(first.signature).not.toBe(webhookSignature(CLIENT_SECRET, first.raw));
    const events = receiver.events();
    expect(events.map((e) => [e.event_type, e.payload.id])).toEqual([
      ['post.mention.create', mention.id],
      ['post.reply.create', implicit.id],
      ['post.mention.create', both.id],
      ['post.reply.create', both.id],
    ]);
    expect(new Set(events.map((e) => e.event_uuid)).size).toBe(4);
    const [m, r] = events;
    expect(m).toMatchObject({ filter: { user_id: account.id }, tag: 'channel-1' });
    expect(m.payload).toMatchObject({
      id: mention.id,
      text: '@acme_help where is my order?',
      author_id: customer.id,
      conversation_id: mention.id,
      created_at: new Date(sim.now()).toISOString(),
      attachments: { media_keys: mention.mediaKeys },
      entities: {
        mentions: [
          { start: 0, start_str: '0', end: 10, end_str: '10', username: 'acme_help', id: account.id },
        ],
      },
      public_metrics: { like_count: 0, like_count_str: '0' },
      edit_history_tweet_ids: [mention.id],
    });
    expect((m.includes?.users as { id: string; username: string }[]).map((u) => u.username)).toEqual([
      'lucia',
      'acme_help',
    ]);
    expect(m.includes?.media).toEqual([
      expect.objectContaining({ media_key: mention.mediaKeys[0], type: 'photo' }),
    ]);
    expect(r.payload).toMatchObject({
      in_reply_to_tweet_id: root.id,
      in_reply_to_user_id: account.id,
      conversation_id: root.id,
      referenced_tweets: [{ type: 'replied_to', id: root.id }],
    });
    expect((r.includes?.tweets as { id: string }[])[0].id).toBe(root.id);
  });

  it('delivers a DM in the v1.1 shape without dm_conversation_id, and only DMs the account received', async () => {
    await world();
    const dm = sim.sendDm({
      senderId: customer.id,
      recipientId: account.id,
      text: 'hola @acme_help',
      mediaCount: 1,
    });
    await userClient(sim, accountToken).v2.sendDmToParticipant(customer.id, { text: 'we are on it' });
    await sim.deliveriesIdle();
    expect(receiver.received).toHaveLength(1);
    const [delivery] = receiver.received;
    expect(delivery.verified).toBe(true);
    expect(delivery.raw).not.toContain('dm_conversation_id');
    const event = delivery.body.data!;
    expect(event.event_type).toBe('dm.received');
    expect(event.payload).toMatchObject({
      direct_message_events: [
        {
          type: 'message_create',
          id: dm.id,
          created_timestamp: String(dm.createdAt),
          message_create: {
            target: { recipient_id: account.id },
            sender_id: customer.id,
            message_data: {
              text: 'hola @acme_help',
              entities: {
                user_mentions: [{ screen_name: 'acme_help', id_str: account.id, indices: [5, 15] }],
              },
              attachment: { type: 'media', media: { id_str: dm.mediaKeys[0].slice(2) } },
            },
          },
        },
      ],
      users: {
        [customer.id]: {
          data: expect.objectContaining({ id: customer.id, username: 'lucia', name: 'Lucía' }),
        },
        [account.id]: { data: expect.objectContaining({ username: 'acme_help' }) },
      },
    });
    expect(event.includes).toBeUndefined();
  });

  it('delivers an XChat message as chat.received ciphertext that never carries the text', async () => {
    await world();
    const res = await control(sim, 'POST', '/_sim/chats', {
      senderId: customer.id,
      recipientId: account.id,
      text: 'my card number is secret-4242',
    });
    expect(res.status).toBe(201);
    expect(res.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(res.body.conversationId).toMatch(/^[0-9]+:[0-9]+$/);
    await sim.deliveriesIdle();
    const [delivery] = receiver.received;
    expect(delivery.verified).toBe(true);
    expect(delivery.raw).not.toContain('secret-4242');
    expect(delivery.raw).not.toContain(Buffer.from('secret-4242').toString('base64'));
    expect(delivery.body.data).toMatchObject({
      event_type: 'chat.received',
      filter: { user_id: account.id },
      payload: {
        id: res.body.id,
        sender_id: customer.id,
        conversation_id: res.body.conversationId,
        created_at_msec: String(sim.now()),
        message_event_signature: { signature_version: '7' },
      },
    });
    const payload = delivery.body.data!.payload as Record<string, string>;
    expect(payload.encoded_event).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(payload.conversation_token.split('.')).toHaveLength(3);
    // Never a legacy DM: polling /2/dm_events cannot see it.
    expect(sim.state.dms).toEqual([]);
    const listed = await control(sim, 'GET', `/_sim/chats?senderId=${customer.id}`);
    expect(listed.body.data).toEqual([
      expect.objectContaining({ id: res.body.id, text: 'my card number is secret-4242' }),
    ]);
  });

  it('sends oauth.revoke when the user revokes the app, and no private events after it', async () => {
    await world();
    const res = await control(sim, 'POST', `/_sim/users/${account.id}/revoke`, {});
    expect(res.status).toBe(200);
    sim.createTweet({ authorId: customer.id, text: '@acme_help hello?' });
    await sim.deliveriesIdle();
    expect(receiver.events()).toEqual([
      {
        event_uuid: expect.stringMatching(/^-?[0-9]{1,20}$/),
        filter: {},
        event_type: 'oauth.revoke',
        tag: 'channel-1',
        payload: {
          date_time: expect.stringMatching(/\+00:00$/),
          user_id: account.id,
          app_id: expect.any(String),
        },
      },
    ]);
  });

  it('drops, duplicates and delays deliveries as PUT /_sim/delivery says', async () => {
    await world();
    await control(sim, 'PUT', '/_sim/delivery', { dropRate: 1 });
    const dropped = sim.createTweet({ authorId: customer.id, text: '@acme_help one' });
    await sim.deliveriesIdle();
    expect(receiver.received).toEqual([]);
    const record = sim.deliveries(webhookId).find((d) => d.objectId === dropped.id);
    expect(record).toMatchObject({ dropped: true, attempts: [] });

    await control(sim, 'PUT', '/_sim/delivery', { dropRate: 0, duplicateRate: 1 });
    const twice = sim.createTweet({ authorId: customer.id, text: '@acme_help two' });
    await sim.deliveriesIdle();
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[0].raw).toBe(receiver.received[1].raw);
    expect(receiver.events()[0].payload.id).toBe(twice.id);
    const log = await control(sim, 'GET', `/_sim/deliveries?webhookId=${webhookId}`);
    expect(
      log.body.data.at(-1).attempts.map((a: { mode: string; status: number }) => [a.mode, a.status]),
    ).toEqual([
      ['live', 200],
      ['duplicate', 200],
    ]);

    await control(sim, 'PUT', '/_sim/delivery', { duplicateRate: 0, delayMs: 300 });
    sim.createTweet({ authorId: customer.id, text: '@acme_help three' });
    // Nothing is sent before the delay: a timer, never inline.
    expect(receiver.received).toHaveLength(2);
    await receiver.waitFor((r) => r.received.length === 3);
    const bad = await control(sim, 'PUT', '/_sim/delivery', { dropRate: 2 });
    expect([bad.status, bad.body.field]).toEqual([400, 'dropRate']);
  });

  it('sends nothing to an invalid webhook; a replay after re-validation delivers the window (XDK replay job)', async () => {
    await world();
    receiver.behaviour.crc = 'wrong';
    await sim.runCrc();
    const missed = [
      sim.createTweet({ authorId: customer.id, text: '@acme_help are you there?' }),
      sim.sendDm({ senderId: customer.id, recipientId: account.id, text: 'hello?' }),
    ];
    await sim.deliveriesIdle();
    expect(receiver.received).toEqual([]);
    const xdk = xdkApp(sim, bearer);
    const window = { webhookId, fromDate: minute(sim.now() - 3_600_000), toDate: minute(sim.now()) };
    const refused = await call(sim, 'POST', '/2/webhooks/replay', bearer, {
      webhook_id: webhookId,
      from_date: window.fromDate,
      to_date: window.toDate,
    });
    expect([refused.status, refused.body.errors[0].message]).toEqual([400, 'CrcValidationFailed']);
    receiver.behaviour.crc = 'ok';
    await xdk.webhooks.validate(webhookId);
    const job = await xdk.webhooks.createWebhookReplayJob(window);
    expect(job.data).toEqual({
      jobId: expect.stringMatching(/^[0-9]+$/),
      createdAt: new Date(sim.now()).toISOString(),
    });
    const conflict = await call(sim, 'POST', '/2/webhooks/replay', bearer, {
      webhook_id: webhookId,
      from_date: window.fromDate,
      to_date: window.toDate,
    });
    expect([conflict.status, conflict.body.errors[0].message]).toEqual([409, 'ReplayConflictError']);
    await sim.deliveriesIdle();
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    expect(receiver.events().map((e) => e.event_type)).toEqual(['post.mention.create', 'dm.received']);
    expect(receiver.events()[0].payload.id).toBe(missed[0].id);
    expect(receiver.received.at(-1)!.body.replay_job_status).toEqual({
      webhook_id: webhookId,
      job_state: 'Complete',
      job_state_description: 'Job completed successfully',
      job_id: job.data!.jobId,
    });
    // One job at a time: the next can start now.
    expect(
      (
        await call(sim, 'POST', '/2/webhooks/replay', bearer, {
          webhook_id: webhookId,
          from_date: window.fromDate,
          to_date: window.toDate,
        })
      ).status,
    ).toBe(200);
    await sim.deliveriesIdle();
    expect(wireViolations(sim)).toEqual([]);
  });

  it('refuses replay windows beyond 24 h, in the future or reversed', async () => {
    await world();
    const now = sim.now();
    const cases: [string, string, string][] = [
      [minute(now - 25 * 3_600_000), minute(now), 'older than 24 hours'],
      [minute(now - 60_000), minute(now + 120_000), 'to_date is in the future'],
      [minute(now), minute(now - 120_000), 'more recent than to_date'],
    ];
    for (const [from, to, why] of cases) {
      const res = await call(sim, 'POST', '/2/webhooks/replay', bearer, {
        webhook_id: webhookId,
        from_date: from,
        to_date: to,
      });
      expect([res.status, res.body.errors[0].message]).toEqual([400, 'QueryParamInvalid']);
      expect(res.body.detail).toContain(why);
    }
    const malformed = await call(sim, 'POST', '/2/webhooks/replay', bearer, {
      webhook_id: webhookId,
      from_date: '2026-09-01',
      to_date: minute(now),
    });
    expect(Object.keys(malformed.body.errors[0].parameters)).toEqual(['from_date']);
    // The replay window is the last 24 h: a replay one day later gets nothing from today.
    sim.createTweet({ authorId: customer.id, text: '@acme_help old news' });
    await sim.deliveriesIdle();
    sim.advanceClock(26 * 3_600_000);
    const late = await call(sim, 'POST', '/2/webhooks/replay', bearer, {
      webhook_id: webhookId,
      from_date: minute(sim.now() - 24 * 3_600_000 + 60_000),
      to_date: minute(sim.now()),
    });
    expect(late.status).toBe(200);
    await sim.deliveriesIdle();
    expect(receiver.events()).toHaveLength(1);
  });

  it('bills each delivered event once per event type, object and UTC day', async () => {
    await world();
    await control(sim, 'PUT', '/_sim/delivery', { duplicateRate: 1 });
    sim.createTweet({ authorId: customer.id, text: '@acme_help billing' });
    sim.sendDm({ senderId: customer.id, recipientId: account.id, text: 'billing dm' });
    sim.sendChat({ senderId: customer.id, recipientId: account.id, text: 'billing chat' });
    await sim.deliveriesIdle();
    expect(receiver.received).toHaveLength(6);
    const billing = await control(sim, 'GET', '/_sim/billing');
    expect(billing.body.events).toEqual({ 'post.mention.create': 1, 'dm.received': 1, 'chat.received': 1 });
    expect(billing.body.costUsd).toBeCloseTo(0.025, 6);
    // A same-day replay is free; after the UTC midnight the same events are billed again.
    const replay = async () => {
      await call(sim, 'POST', '/2/webhooks/replay', bearer, {
        webhook_id: webhookId,
        from_date: minute(sim.now() - 23 * 3_600_000),
        to_date: minute(sim.now()),
      });
      await sim.deliveriesIdle();
    };
    await replay();
    expect(sim.billing().events).toEqual({ 'post.mention.create': 1, 'dm.received': 1, 'chat.received': 1 });
    sim.advanceClock(12 * 3_600_000 + 60_000); // 12:00 → next day 00:01 UTC
    await replay();
    expect(sim.billing().events).toEqual({ 'post.mention.create': 2, 'dm.received': 2, 'chat.received': 2 });
    expect(sim.billing().costUsd).toBeCloseTo(0.05, 6);
  });

  it('delivers nothing on plans without XAA', async () => {
    await world();
    sim.setTier('basic');
    sim.createTweet({ authorId: customer.id, text: '@acme_help on basic' });
    await sim.deliveriesIdle();
    expect(receiver.received).toEqual([]);
    sim.setTier('pay-per-use');
    sim.createTweet({ authorId: customer.id, text: '@acme_help on pay-per-use' });
    await receiver.waitFor((r) => r.received.length === 1);
  });

  it('keeps webhooks, subscriptions, chats and the delivery settings across a restart', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sim-x-xaa-'));
    const dataFile = path.join(dir, 'sim-x.json');
    try {
      await world({ dataFile });
      sim.sendChat({ senderId: customer.id, recipientId: account.id, text: 'kept' });
      await sim.deliveriesIdle();
      const before = {
        webhooks: (await control(sim, 'GET', '/_sim/webhooks')).body,
        subscriptions: (await control(sim, 'GET', `/_sim/subscriptions?userId=${account.id}`)).body,
      };
      await sim.stop();
      sim = await startTestSim({ crcIntervalMs: 0, dataFile });
      expect((await control(sim, 'GET', '/_sim/webhooks')).body).toEqual(before.webhooks);
      expect((await control(sim, 'GET', `/_sim/subscriptions?userId=${account.id}`)).body).toEqual(
        before.subscriptions,
      );
      expect((await control(sim, 'GET', '/_sim/delivery')).body).toMatchObject({ delayMs: 10 });
      expect(sim.state.chats).toHaveLength(1);
      // The same bearer token still works, and deliveries go on.
      expect((await call(sim, 'GET', '/2/webhooks', bearer)).status).toBe(200);
      sim.createTweet({ authorId: customer.id, text: '@acme_help after restart' });
      await receiver.waitFor((r) => r.events().some((e) => e.payload.text === '@acme_help after restart'));
    } finally {
      await sim.stop();
      stopped = true;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
