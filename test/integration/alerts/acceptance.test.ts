/**
 * Each alert fires once for its condition and clears (issue 20 acceptance), through the whole local
 * stack (`startLocal`, as `npm start` runs it): the admin API over HTTP, Sign in with X at the simulated
 * X, the real webhook function, SQS and DynamoDB stand-ins and the EventBridge stand-in, all through the
 * real AWS SDK clients. The dispatcher's alert evaluation (`compose(...).alerts()`, what its gauge ticks
 * run) is called directly, several times while each condition holds; the conditions are driven by the
 * simulated X's control API (revocation, credits, subscription limit, dropped deliveries), the admin API
 * (budgets), the SQS stand-in (a DLQ message) and a poller on a clock ahead of time where a poll must be due.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { PurgeQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { createDynamoSpendLedger } from '../../../adapters/aws/dynamo-spend';
import { pollChannel } from '../../../core/inbound/poll';
import { REPAIR_RETRY_MS } from '../../../core/realtime/subscriptions';
import { compose as composeDispatcher } from '../../../lambdas/dispatcher/compose';
import { loadConfig as loadDispatcherConfig } from '../../../lambdas/dispatcher/config';
import { compose as composePoller } from '../../../lambdas/poller/compose';
import { loadConfig as loadPollerConfig } from '../../../lambdas/poller/config';
import { compose as composeWebhook } from '../../../lambdas/webhook/compose';
import { loadConfig as loadWebhookConfig } from '../../../lambdas/webhook/config';
import { registerLocalWebhook } from '../../../local/xaa-webhook';
import { alertDetailProblems } from '../../helpers/alert-contract';
import { useLocalStackWorld } from '../../helpers/local-stack';

jest.setTimeout(180_000);

const world = useLocalStackWorld('alerts');
const { control, adminCall, connect } = world;

/** One alert evaluation as the dispatcher's gauge tick runs it, on `now` (default the real time). */
async function evaluate(now?: Date) {
  const clock = { now: () => now ?? new Date() };
  return (
    await composeDispatcher(loadDispatcherConfig(process.env), { clients: world.clients, clock }).alerts()
  ).report;
}

/** The announcements made for alert `id`, in order: 'open' / 'cleared'. */
const announced = (id: string) =>
  world.stack
    .alertEvents()
    .filter((e) => (e.detail as { id: string }).id === id)
    .map((e) => (e.detail as { state: string }).state);

const openIds = async () =>
  ((await adminCall('GET', '/alerts')).body.items as Array<{ id: string }>).map((a) => a.id);

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 150; i++) {
    const v = await read();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const statusOf = async (channelId: string) =>
  (await adminCall('GET', `/channels/${channelId}`)).body.status as string;

it('needs_reauth: X revokes the grant → one alert with the console link; a new sign-in clears it', async () => {
  const { channelId, accountId } = await connect('alert_revoked');
  const id = `needs_reauth:${channelId}`;
  await control('POST', `/_sim/users/${accountId}/revoke`);
  // the oauth.revoke event reaches the webhook, which marks the channel at once
  await until(
    'needs_reauth',
    () => statusOf(channelId),
    (s) => s === 'needs_reauth',
  );

  await evaluate();
  await evaluate();
  expect(announced(id)).toEqual(['open']);
  const listed = (await adminCall('GET', '/alerts')).body.items.find((a: { id: string }) => a.id === id);
  expect(listed).toMatchObject({
    kind: 'needs_reauth',
    severity: 'critical',
    channelId,
    title: '@alert_revoked: sign in with X again',
    consoleUrl: `${world.apiUrl}/#/channels/${channelId}`,
  });
  const event = world.stack.alertEvents().find((e) => (e.detail as { id: string }).id === id)!;
  expect(event).toMatchObject({ source: 'x-channel.alerts', 'detail-type': 'x-channel alert opened' });
  expect(JSON.stringify(event)).not.toMatch(/Bearer|access_token|refresh_token/i);

  await connect('alert_revoked', { channelId });
  expect(await statusOf(channelId)).toBe('active');
  await evaluate();
  await evaluate();
  expect(announced(id)).toEqual(['open', 'cleared']);
  expect(await openIds()).not.toContain(id);
});

it('realtime_lost: over the subscription limit → one alert; real time back → cleared', async () => {
  const held = (await control('GET', '/_sim/subscriptions')).data.length as number;
  await control('PUT', '/_sim/subscription-limit', { limit: held });
  let channelId: string;
  try {
    ({ channelId } = await connect('alert_rt_lost'));
    const rt = (await adminCall('GET', `/channels/${channelId}`)).body.realtime;
    expect(rt).toMatchObject({ state: 'off', reasonCode: 'subscription_limit' });
    await evaluate();
    await evaluate();
    expect(announced(`realtime_lost:${channelId}`)).toEqual(['open']);
  } finally {
    await control('PUT', '/_sim/subscription-limit', { limit: null });
  }
  // the admin switches DMs off: the sync subscribes what the channel listens to
  expect((await adminCall('PATCH', `/channels/${channelId}`, { listenDms: false })).status).toBe(200);
  expect((await adminCall('GET', `/channels/${channelId}`)).body.realtime.state).toBe('on');
  await evaluate();
  expect(announced(`realtime_lost:${channelId}`)).toEqual(['open', 'cleared']);
});

/** Real time is off for `reason`, and two evaluations announce one `realtime_lost` alert whose text names it. */
async function expectRealtimeLostOnce(channelId: string, reason: string, text: RegExp) {
  const rt = (await adminCall('GET', `/channels/${channelId}`)).body.realtime;
  expect(rt).toMatchObject({ state: 'off', reasonCode: reason });
  await evaluate();
  await evaluate();
  const id = `realtime_lost:${channelId}`;
  expect(announced(id)).toEqual(['open']);
  const listed = (await adminCall('GET', '/alerts')).body.items.find((a: { id: string }) => a.id === id);
  expect(listed).toMatchObject({
    kind: 'realtime_lost',
    facts: { reasonCode: reason },
    text: expect.stringMatching(text),
  });
}

/** The X app's API key and secret (what the deployment's webhook registration uses). */
async function appKeys() {
  return JSON.parse(
    (await world.clients.secrets.send(new GetSecretValueCommand({ SecretId: process.env.X_APP_SECRET_ID })))
      .SecretString!,
  ) as { clientId: string; clientSecret: string; apiKey: string; apiKeySecret: string };
}

/** A poll of the channel on a clock past the refused creation's retry wait: the product's own repair. */
const repairPoll = (channelId: string, owner: string) =>
  world.pollPastLease(channelId, {
    clock: { now: () => new Date(Date.now() + REPAIR_RETRY_MS + 60_000) },
    owner,
  });

it('realtime_lost: the app’s webhook deleted at X → one alert naming webhook_missing; re-registered and repaired → cleared', async () => {
  const keys = await appKeys();
  const webhookUrl = `${world.apiUrl}/x/webhook`;
  const [hook] = (await control('GET', '/_sim/webhooks')).data as Array<{ id: string; url: string }>;
  expect(hook.url).toBe(webhookUrl);
  // someone deletes the app's webhook at X (X's own DELETE /2/webhooks/:id with the app bearer)
  const token = (await (
    await fetch(`${world.simUrl}/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${keys.apiKey}:${keys.apiKeySecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    })
  ).json()) as { access_token: string };
  const deleted = await fetch(`${world.simUrl}/2/webhooks/${hook.id}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${token.access_token}` },
  });
  expect(deleted.status).toBe(200);
  let channelId: string;
  try {
    ({ channelId } = await connect('alert_rt_nohook'));
    await expectRealtimeLostOnce(channelId, 'webhook_missing', /no webhook is registered at X/);
  } finally {
    // the deployment registers its webhook again (what `npm start` and a deploy do)
    await registerLocalWebhook({
      xBaseUrl: world.simUrl,
      apiKey: keys.apiKey,
      apiKeySecret: keys.apiKeySecret,
      webhookUrl,
    });
  }
  // the channel's poll after the retry wait creates the subscriptions on the new webhook
  await repairPoll(channelId, 'nohook');
  expect((await adminCall('GET', `/channels/${channelId}`)).body.realtime.state).toBe('on');
  await evaluate();
  expect(announced(`realtime_lost:${channelId}`)).toEqual(['open', 'cleared']);
});

it('realtime_lost: X answers the subscription call 503 → one alert naming x_error; X recovers and the repair poll → cleared', async () => {
  await control('POST', '/_sim/faults', {
    endpoint: 'POST /2/activity/subscriptions',
    kind: 'status',
    status: 503,
    sticky: true,
    label: 'rt-x-error',
  });
  let channelId: string;
  try {
    ({ channelId } = await connect('alert_rt_xerror'));
    await expectRealtimeLostOnce(channelId, 'x_error', /X refused a subscription/);
  } finally {
    await control('DELETE', '/_sim/faults');
  }
  await repairPoll(channelId, 'xerror');
  expect((await adminCall('GET', `/channels/${channelId}`)).body.realtime.state).toBe('on');
  await evaluate();
  expect(announced(`realtime_lost:${channelId}`)).toEqual(['open', 'cleared']);
});

it('credits_depleted: X answers 402 to a poll → one alert; credits topped up and a good poll → cleared', async () => {
  const { channelId } = await connect('alert_credits');
  // the sign-in queues the channel's first poll on the stack's own poller: let it end before X's credits
  // run out, or its write races this test's polls (whose clock, a day ahead, takes over its lease)
  await world.afterFirstPoll(channelId);
  const at = (days: number) => ({ now: () => new Date(Date.now() + days * 86_400_000) });
  // the local stack's own poller runs beside this test and may hold the channel's lease: poll again until ours runs
  const poll = (days: number) => world.pollPastLease(channelId, { clock: at(days), owner: `test-${days}` });
  await control('POST', '/_sim/credits', { usd: 0 });
  try {
    await poll(1);
    expect((await adminCall('GET', `/channels/${channelId}/health`)).body.lastError).toMatchObject({
      code: 'credits_depleted',
    });
    await evaluate();
    await evaluate();
    expect(announced('credits_depleted:app')).toEqual(['open']);
    expect((await adminCall('GET', '/alerts')).body.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: 'credits_depleted:app', channelId: null })]),
    );
  } finally {
    await control('POST', '/_sim/credits', { usd: 1000 });
  }
  const ok = await poll(2);
  expect(ok.status).not.toBe('skipped');
  await evaluate();
  expect(announced('credits_depleted:app')).toEqual(['open', 'cleared']);
});

it('credits_depleted: X answers 429 usage-capped (the monthly cap) to a poll → one alert; cap lifted and a good poll → cleared', async () => {
  const { channelId } = await connect('alert_capped');
  await world.afterFirstPoll(channelId);
  const id = 'credits_depleted:app';
  // the credits case above announced this id already: count from here
  const before = announced(id).length;
  const poll = (days: number) =>
    world.pollPastLease(channelId, {
      clock: { now: () => new Date(Date.now() + days * 86_400_000) },
      owner: `capped-${days}`,
    });
  await control('POST', '/_sim/usage-cap', { cap: 0 });
  try {
    await poll(3);
    expect((await adminCall('GET', `/channels/${channelId}/health`)).body.lastError).toMatchObject({
      code: 'credits_depleted',
      message: expect.stringMatching(/usage cap/),
    });
    await evaluate();
    await evaluate();
    expect(announced(id).slice(before)).toEqual(['open']);
  } finally {
    await control('POST', '/_sim/usage-cap', { cap: null });
  }
  expect((await poll(4)).status).not.toBe('skipped');
  await evaluate();
  expect(announced(id).slice(before)).toEqual(['open', 'cleared']);
});

it('dlq_not_empty: a message on a DLQ → one alert; the DLQ emptied → cleared', async () => {
  await world.clients.sqs.send(
    new SendMessageCommand({
      QueueUrl: world.stack.queues.pollJobs.dlqUrl,
      MessageBody: '{"channelId":"ch_gone"}',
    }),
  );
  await evaluate();
  await evaluate();
  expect(announced('dlq_not_empty:pollJobs')).toEqual(['open']);
  await world.clients.sqs.send(new PurgeQueueCommand({ QueueUrl: world.stack.queues.pollJobs.dlqUrl }));
  await evaluate();
  expect(announced('dlq_not_empty:pollJobs')).toEqual(['open', 'cleared']);
});

it('budgets: a channel and the app over 80 % and 100 % → one alert each; budgets raised → cleared', async () => {
  const { channelId } = await connect('alert_budget');
  // the sign-ins so far cost $0.01 each (users/me): both budgets are used up
  expect((await adminCall('PATCH', `/channels/${channelId}`, { monthlyBudgetUsd: 0.005 })).status).toBe(200);
  expect((await adminCall('PATCH', '/settings', { monthlyBudgetUsd: 0.01 })).status).toBe(200);
  await evaluate();
  await evaluate();
  for (const id of [
    'budget_warning:app',
    'budget_exhausted:app',
    `budget_warning:${channelId}`,
    `budget_exhausted:${channelId}`,
  ])
    expect([id, announced(id)]).toEqual([id, ['open']]);
  await adminCall('PATCH', `/channels/${channelId}`, { monthlyBudgetUsd: 100 });
  await adminCall('PATCH', '/settings', { monthlyBudgetUsd: null });
  await evaluate();
  for (const id of [
    'budget_warning:app',
    'budget_exhausted:app',
    `budget_warning:${channelId}`,
    `budget_exhausted:${channelId}`,
  ])
    expect([id, announced(id)]).toEqual([id, ['open', 'cleared']]);
});

it('inbound_silent: a usually busy channel gets nothing for 6 hours → one alert; a mention arrives → cleared', async () => {
  const { channelId } = await connect('alert_quiet');
  // Two weeks from now, the channel will have had 20 mentions a day on each of the 14 days before:
  // the spend meter's counters (what the poller and the webhook write) for those days.
  const DAY = 86_400_000;
  const later = Date.now() + 15 * DAY;
  const ledger = createDynamoSpendLedger({ client: world.clients.doc, tableName: world.stack.tableName });
  for (let d = 1; d <= 14; d++) {
    const items = Array.from({ length: 20 }, (_, i) => ({
      category: 'postRead',
      micros: 5000,
      dedupKey: `postRead:quiet-${d}-${i}`,
    }));
    await ledger.record(channelId, new Date(later - d * DAY), items);
  }
  const id = `inbound_silent:${channelId}`;
  await evaluate(new Date(later));
  await evaluate(new Date(later + 60_000));
  expect(announced(id)).toEqual(['open']);
  const alert = (await adminCall('GET', '/alerts')).body.items.find((a: { id: string }) => a.id === id);
  expect(alert.facts).toMatchObject({ usualPerDay: 20, hours: 6 });

  // a customer mentions the account; the webhook misses it, the poll of that day delivers it
  await control('PUT', '/_sim/delivery', { dropRate: 1 });
  try {
    const { id: customer } = await control('POST', '/_sim/users', { username: 'quiet_customer', name: 'Q' });
    await control('POST', '/_sim/tweets', { authorId: customer, text: '@alert_quiet hello?' });
  } finally {
    await control('PUT', '/_sim/delivery', { dropRate: 0 });
  }
  const poller = composePoller(loadPollerConfig(process.env), {
    clients: world.clients,
    clock: { now: () => new Date(later + 120_000) },
  });
  const outcome = await pollChannel(poller.deps, { channelId, owner: 'quiet' });
  expect(outcome.mentionsDelivered).toBe(1);
  await evaluate(new Date(later + 180_000));
  expect(announced(id)).toEqual(['open', 'cleared']);
});

it('a quiet channel (below the minimum traffic) never alerts silent', async () => {
  const { channelId } = await connect('alert_calm');
  await evaluate(new Date(Date.now() + 15 * 86_400_000));
  expect(announced(`inbound_silent:${channelId}`)).toEqual([]);
});

it('webhook_invalid: X marks the webhook invalid (its CRC fails) → one alert; re-validated → cleared', async () => {
  // the real-time watch as its schedule runs it; its first tick sees the webhook valid
  const webhook = composeWebhook(loadWebhookConfig(process.env), { clients: world.clients });
  expect((await webhook.watch()).webhook).toBe('valid');
  const secret = JSON.parse(
    (await world.clients.secrets.send(new GetSecretValueCommand({ SecretId: process.env.X_APP_SECRET_ID })))
      .SecretString!,
  ) as { clientId: string; clientSecret: string; apiKey: string; apiKeySecret: string };
  const app = {
    clientId: secret.clientId,
    clientSecret: secret.clientSecret,
    name: 'x-channel (local)',
    redirectUris: [`${world.apiUrl}/oauth/callback`],
    apiKey: secret.apiKey,
  };
  // the API key secret changes at X only: our webhook's CRC answers no longer match
  await control('POST', '/_sim/apps', {
    ...app,
    apiKeySecret: `rotated-${secret.apiKeySecret.slice(0, 8)}x`,
  });
  try {
    await control('POST', '/_sim/webhooks/crc');
    expect((await control('GET', '/_sim/webhooks')).data[0].valid).toBe(false);
    expect((await webhook.watch()).webhook).toBe('invalid');
    await evaluate();
    await evaluate();
    expect(announced('webhook_invalid:app')).toEqual(['open']);
  } finally {
    await control('POST', '/_sim/apps', { ...app, apiKeySecret: secret.apiKeySecret });
  }
  expect((await webhook.watch()).webhook).toBe('revalidated');
  await evaluate();
  expect(announced('webhook_invalid:app')).toEqual(['open', 'cleared']);
});

it('every alert event the cases above put on the bus is what docs/asyncapi.yaml documents (schemas/alert.v1.json)', () => {
  const events = world.stack.alertEvents();
  expect(events.length).toBeGreaterThan(0);
  for (const e of events) {
    expect(e).toMatchObject({ source: 'x-channel.alerts' });
    const detail = e.detail as { id: string };
    expect([detail.id, alertDetailProblems(detail)]).toEqual([detail.id, []]);
  }
});
