/**
 * The whole local stack (`startLocal`, as `npm start` runs it) for tests that drive it from outside:
 * in memory, on the run's shared DynamoDB Local (test/global-setup.ts) under a table of its own, with
 * short long-polls and drain so that `stop()` is quick.
 *
 * {@link useLocalStackWorld} adds what the acceptance tests do to it: the simulated X's control API,
 * the admin API over HTTP, Sign in with X at the simulated X's authorize page as a browser does, and
 * the waits around the stack's own poller, which runs beside the test.
 *
 * @example
 * const world = useLocalStackWorld('alerts');
 * it('...', async () => {
 *   const { channelId } = await world.connect('acme');
 *   expect((await world.adminCall('GET', `/channels/${channelId}`)).status).toBe(200);
 * });
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAwsClients, type AwsClients } from '../../adapters/aws/clients';
import { pollChannel, type PollOutcome } from '../../core/inbound/poll';
import type { Clock } from '../../core/ports';
import { compose as composePoller } from '../../lambdas/poller/compose';
import { loadConfig as loadPollerConfig } from '../../lambdas/poller/config';
import { startLocal, type LocalStack, type StartLocalOptions } from '../../local/start-local';

/** `startLocal` as the tests run it; `options` adds to or overrides the test defaults. */
export function startTestLocal(options: StartLocalOptions & { dataDir: string }): Promise<LocalStack> {
  return startLocal({
    memory: true,
    dynamodbEndpoint: process.env.XC_TEST_DYNAMODB_ENDPOINT,
    receiveWaitSeconds: 1,
    drainTimeoutMs: 2000,
    ...options,
  });
}

/** The admin API and the simulated X only (what the console needs): no schedule, no queue consumers. */
export function startApiOnly(options: { dataDir: string; tableName: string }): Promise<LocalStack> {
  return startTestLocal({ ...options, functions: ['api'] });
}

/** What {@link useLocalStackWorld} keeps up for a test file; read its fields inside tests and hooks. */
export interface LocalStackWorld {
  stack: LocalStack;
  /** The real AWS SDK clients, pointed at the stack's stand-ins. */
  clients: AwsClients;
  /** The simulated X's base URL (its control API is under `/_sim`). */
  simUrl: string;
  /** The admin API's base URL. */
  apiUrl: string;
  /** A call to the simulated X's control API; any answer ≥ 300 throws with its body. */
  control(method: string, path: string, body?: unknown): Promise<any>;
  /** An admin API call with the admin token. */
  adminCall(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /**
   * Signs `username` in to `existing.channelId`, or to a new channel listening to mentions and DMs, at
   * the simulated X's authorize page, as a browser does. The user is created at X when it is new.
   */
  connect(
    username: string,
    existing?: { channelId: string },
  ): Promise<{ channelId: string; accountId: string }>;
  /**
   * The channel's health once its first poll (queued by the sign-in, run by the stack's own poller) has
   * run; throws when it has not within `withinMs`.
   */
  afterFirstPoll(channelId: string, withinMs?: number): Promise<any>;
  /**
   * One poll of the channel as the poller runs it, on `clock`. The stack's own poller runs beside the
   * test and may hold the channel's lease: polls again until it is not held or `leaseWaitMs` has passed.
   */
  pollPastLease(
    channelId: string,
    options: { clock: Clock; owner: string; leaseWaitMs?: number },
  ): Promise<PollOutcome>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Registers the jest hooks that keep one local stack up for the file: the dispatcher's schedule is
 * 1 h (it never ticks during the file), X's deliveries are neither dropped nor duplicated, and they are
 * delayed `deliveryDelayMs` (default 0). Logs below ERROR and metrics are off.
 */
export function useLocalStackWorld(
  name: string,
  options: { deliveryDelayMs?: number } = {},
): LocalStackWorld {
  let admin: Record<string, string> = {};
  const world: LocalStackWorld = {
    stack: undefined as unknown as LocalStack,
    clients: undefined as unknown as AwsClients,
    simUrl: '',
    apiUrl: '',

    async control(method, p, body) {
      const res = await fetch(`${world.simUrl}${p}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (res.status >= 300) throw new Error(`${method} ${p} answered ${res.status}: ${await res.text()}`);
      return res.json();
    },

    async adminCall(method, p, body) {
      const res = await fetch(`${world.apiUrl}${p}`, {
        method,
        headers: admin,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() };
    },

    async connect(username, existing) {
      const { control, adminCall, apiUrl } = world;
      const users = await control('GET', '/_sim/users');
      const known = (users.data as Array<{ id: string; username: string }>).find(
        (u) => u.username === username,
      );
      const accountId: string =
        known?.id ?? (await control('POST', '/_sim/users', { username, name: username })).id;
      let channelId = existing?.channelId;
      if (!channelId) {
        const created = await adminCall('POST', '/channels', {
          listenMentions: true,
          listenDms: true,
          autoFollow: false,
        });
        expect(created.status).toBe(201);
        channelId = created.body.id as string;
      }
      const auth = await fetch(`${apiUrl}/channels/${channelId}/authorize`, {
        method: 'POST',
        headers: admin,
      });
      expect(auth.status).toBe(200);
      const cookie = auth.headers.getSetCookie()[0].split(';')[0];
      const url = new URL(((await auth.json()) as { authorizeUrl: string }).authorizeUrl);
      const consent = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username, decision: 'allow' }).toString(),
        redirect: 'manual',
      });
      expect(consent.status).toBe(302);
      const callback = await fetch(consent.headers.get('location')!, { headers: { cookie } });
      expect(callback.status).toBe(200);
      return { channelId, accountId };
    },

    async afterFirstPoll(channelId, withinMs = 15_000) {
      for (const deadline = Date.now() + withinMs; ;) {
        const health = (await world.adminCall('GET', `/channels/${channelId}/health`)).body;
        if (health.lastPollAt) return health;
        if (Date.now() > deadline) throw new Error(`the first poll of ${channelId} did not run`);
        await sleep(100);
      }
    },

    async pollPastLease(channelId, { clock, owner, leaseWaitMs = 10_000 }) {
      const deadline = Date.now() + leaseWaitMs;
      for (;;) {
        const poller = composePoller(loadPollerConfig(process.env), { clients: world.clients, clock });
        const outcome = await pollChannel(poller.deps, { channelId, owner });
        if (outcome.reason !== 'lease_held' || Date.now() > deadline) return outcome;
        await sleep(200);
      }
    },
  };

  beforeAll(async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    process.env.LOG_LEVEL = 'ERROR';
    world.stack = await startTestLocal({
      dataDir: mkdtempSync(path.join(os.tmpdir(), `xc-${name}-`)),
      tableName: `xc-${name}-${process.pid}-${Date.now()}`,
      scheduleIntervalMs: 3_600_000,
    });
    const j = world.stack.localJson;
    world.clients = createAwsClients({
      region: j.region,
      endpoints: j.endpoints,
      credentials: j.credentials,
    });
    world.simUrl = j.x.controlUrl!;
    world.apiUrl = j.apiUrl;
    admin = { authorization: `Bearer ${j.adminToken}`, 'content-type': 'application/json' };
    await world.control('PUT', '/_sim/delivery', {
      delayMs: options.deliveryDelayMs ?? 0,
      dropRate: 0,
      duplicateRate: 0,
    });
  });

  afterAll(async () => {
    world.clients?.sqs.destroy();
    world.clients?.dynamodb.destroy();
    world.clients?.secrets.destroy();
    await world.stack?.stop();
  });

  return world;
}
