/**
 * One seeded, randomized end-to-end run for the reliability suite and the soak script: several channels,
 * customers writing mentions, thread replies and DMs at the simulated X over simulated time, a fake case
 * system answering from the inbound queue through the outbound queue, and a random fault schedule:
 * - simulated X faults (429 with a reset, 5xx, connection resets, bodies cut mid-flight, POST timeouts),
 * - crashes at step boundaries, injected by wrapping the real AWS SDK clients the handlers use (a crash
 *   kills the rest of that invocation: every later AWS call of it fails, so leases are not released),
 * - SQS redeliveries and visibility expiry, concurrent duplicate poll jobs, token expiry and revocation.
 * The X client (twitter-api-v2), SQS, DynamoDB and Secrets Manager are real; handlers run through middy
 * and Powertools exactly as deployed, invoked with SQS-shaped events built from real received messages.
 *
 * At the end {@link RunReport} holds the exact accounting the tests assert to be all zero.
 */
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { createDynamoChannelStore } from '../../adapters/aws/dynamo-channel-store';
import type { AwsClients } from '../../adapters/aws/clients';
import { createSecretsTokenVault } from '../../adapters/aws/secrets-token-vault';
import { createXAppClient } from '../../adapters/x/client';
import { parseInbound, type InboundMessage, type ResultMessage } from '../../contracts';
import type { Channel } from '../../core/channel';
import type { Clock } from '../../core/ports';
import { createApp as createPollerHandler } from '../../lambdas/poller/app';
import { compose as composePoller } from '../../lambdas/poller/compose';
import { loadConfig as loadPollerConfig } from '../../lambdas/poller/config';
import { createApp as createSenderHandler } from '../../lambdas/sender/app';
import { compose as composeSender } from '../../lambdas/sender/compose';
import { loadConfig as loadSenderConfig } from '../../lambdas/sender/config';
import { createLogger } from '../../lambdas/shared/logger';
import { failedIdsFromResponse, toSqsRecord } from '../../local/event-source';
import { createLambdaContext } from '../../local/lambda-context';
import { startSimX, type FaultSpec, type SimX } from '../../sim/x/server';
import type { LocalAws } from './local-aws';
import { activeChannel } from './channel-fixture';

export const CLIENT_ID = 'reliability-client';
export const CLIENT_SECRET = 'reliability-client-secret-7f3a9c2e51';
const REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback';
const SCOPES = ['tweet.read', 'tweet.write', 'users.read', 'dm.read', 'dm.write', 'offline.access'];
const APP_SECRET_ID = 'x-channel/reliability-app';
const START_MS = Date.UTC(2026, 8, 1, 12, 0, 0);

/** mulberry32: a tiny seeded PRNG, so a run is reproducible from its seed alone. */
export function createRng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    chance: (p: number) => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
  };
}
export type Rng = ReturnType<typeof createRng>;

/** Where a crash is injected; `after` kinds let the side effect happen, then kill the invocation. */
export const CRASH_POINTS = [
  'crash_after_x_read', // before the inbound send: X was read, nothing published
  'crash_partial_inbound_batch', // part of an inbound batch reached SQS
  'crash_after_inbound_send', // everything published, checkpoint not written
  'crash_before_checkpoint', // checkpoint write refused by the dying process
  'crash_after_x_post', // X posted, idempotency record not completed
  'crash_after_result_send', // result published, outbound message not deleted
  'crash_during_token_refresh', // refresh lease taken, refresh not stored
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export const X_FAULTS = ['x_429', 'x_500', 'x_503', 'x_reset', 'x_malformed', 'x_post_timeout'] as const;
export type XFaultKind = (typeof X_FAULTS)[number];

export const OTHER_FAULTS = [
  'redelivery', // a delivered outbound/poll message delivered again
  'visibility_expiry', // in-flight messages visible again before their handler finished
  'duplicate_poll_jobs', // two jobs for one channel handled concurrently
  'token_expiry', // simulated time jumps past the access token's life
  'token_revocation', // the user revokes the app at X
] as const;
export type FaultKind = CrashPoint | XFaultKind | (typeof OTHER_FAULTS)[number];

/** What one run found. Every list must be empty and every count zero for the run to pass. */
export interface RunReport {
  seed: number;
  items: number;
  commands: number;
  faults: Partial<Record<FaultKind, number>>;
  /** Inbound ids created for a listening, healthy channel that never reached the consumer. */
  lost: string[];
  /** Inbound ids the consumer received more than once. */
  duplicated: string[];
  /** Outbound keys without a result, or with two different results. */
  missingResults: string[];
  conflictingResults: string[];
  /** Keys posted at X more than once, or `sent` without exactly one post carrying the returned id. */
  doublePosts: string[];
  sentWithoutPost: string[];
  /** Secret values found in logs, messages, results or error bodies (reported by kind, never by value). */
  leaked: string[];
  /** Calls to an endpoint after a 429 and before its reset. */
  rateViolations: string[];
  /** Refresh tokens presented twice. */
  refreshReuse: number;
  /** Channels that ended needs_reauth/degraded, with their reason (their undelivered items are accounted there). */
  accountedInHealth: Array<{ channelId: string; status: string; reason: string | null; undelivered: number }>;
  /** Own posts/DMs fed back inbound. */
  echoes: string[];
  /** Poison commands: their ids must each have a failed result (and a DLQ entry). */
  poison: number;
}

/** Counts of a report's failures (all must be zero). */
export function failureCount(r: RunReport): number {
  return (
    r.lost.length +
    r.duplicated.length +
    r.missingResults.length +
    r.conflictingResults.length +
    r.doublePosts.length +
    r.sentWithoutPost.length +
    r.leaked.length +
    r.rateViolations.length +
    r.refreshReuse +
    r.echoes.length
  );
}

/** Options of one run. */
export interface RunOptions {
  seed: number;
  channels?: number;
  steps?: number;
  /** Probability that a step arms a fault. */
  faultRate?: number;
  /** Sender X timeout (ms, real time): a `x_post_timeout` costs this much. */
  xTimeoutMs?: number;
}

interface TrackedChannel {
  channel: Channel;
  accountId: string;
  username: string;
  revokedAt: number | null;
}

/** A Proxy over an AWS SDK client whose `send` passes through `intercept`. */
function wrapSend<C extends { send: (...args: any[]) => Promise<any> }>(
  client: C,
  intercept: (command: any, real: (command: any) => Promise<any>) => Promise<any>,
): C {
  const real = (command: any) => client.send(command);
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === 'send') return (command: any) => intercept(command, real);
      return Reflect.get(target, prop, receiver);
    },
  });
}

class InjectedCrash extends Error {
  constructor(point: string) {
    super(`injected crash: ${point}`);
    this.name = 'InjectedCrash';
  }
}

/** Runs one seeded randomized run against `aws` and a fresh simulated X. */
const PROFILE = process.env.XC_RELIABILITY_PROFILE === '1';
const phases: Record<string, number> = {};
async function timed<T>(name: string, f: () => Promise<T>): Promise<T> {
  if (!PROFILE) return f();
  const t = performance.now();
  try {
    return await f();
  } finally {
    phases[name] = (phases[name] ?? 0) + performance.now() - t;
  }
}
/** Accumulated phase timings (ms) when XC_RELIABILITY_PROFILE=1. */
export const profile = () => ({ ...phases });

export async function runSeed(aws: LocalAws, options: RunOptions): Promise<RunReport> {
  const rng = createRng(options.seed);
  const channelCount = options.channels ?? 2;
  const steps = options.steps ?? rng.int(6, 9);
  const faultRate = options.faultRate ?? 0.45;
  let nowMs = START_MS;
  const simClock = { now: () => nowMs };
  const clock: Clock = { now: () => new Date(nowMs) };
  const advance = (ms: number) => (nowMs += ms);
  const report: RunReport = {
    seed: options.seed,
    items: 0,
    commands: 0,
    faults: {},
    lost: [],
    duplicated: [],
    missingResults: [],
    conflictingResults: [],
    doublePosts: [],
    sentWithoutPost: [],
    leaked: [],
    rateViolations: [],
    refreshReuse: 0,
    accountedInHealth: [],
    echoes: [],
    poison: 0,
  };
  const count = (k: FaultKind) => (report.faults[k] = (report.faults[k] ?? 0) + 1);

  // Everything the run produced that a secret must not appear in.
  const surfaces: string[] = [];
  const secrets = new Map<string, string>(); // value -> kind
  const captureOut: string[] = [];
  const origOut = process.stdout.write.bind(process.stdout);
  const origErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: any, ...rest: any[]) => {
    captureOut.push(String(chunk));
    return typeof rest[rest.length - 1] === 'function' ? (rest[rest.length - 1](), true) : true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: any, ...rest: any[]) => {
    captureOut.push(String(chunk));
    return typeof rest[rest.length - 1] === 'function' ? (rest[rest.length - 1](), true) : true;
  }) as typeof process.stderr.write;

  const sim: SimX = await startSimX({ port: 0, clock: simClock, accessTokenTtlSeconds: 3600 });
  sim.registerApp({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    name: 'Reliability',
    redirectUris: [REDIRECT_URI],
  });
  secrets.set(CLIENT_SECRET, 'client_secret');
  const harvestSecrets = () => {
    for (const t of Object.keys(sim.state.accessTokens)) secrets.set(t, 'access_token');
    for (const t of Object.keys(sim.state.refreshTokens)) secrets.set(t, 'refresh_token');
    for (const c of Object.keys(sim.state.codes)) secrets.set(c, 'authorization_code');
  };

  try {
    await aws.clients.secrets
      .send(
        new CreateSecretCommand({
          Name: APP_SECRET_ID,
          SecretString: JSON.stringify({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }),
        }),
      )
      .catch((e: Error) => {
        if (e.name !== 'ResourceExistsException') throw e;
      });
    const queues = await timed('queues', () =>
      aws.createQueues(`-r${options.seed.toString(36)}${Math.random().toString(36).slice(2, 6)}`),
    );

    // ---- crash injection around the real clients --------------------------------------------------
    let armed: CrashPoint | null = null;
    let dead = false;
    const die = (point: CrashPoint): never => {
      armed = null;
      dead = true;
      count(point);
      throw new InjectedCrash(point);
    };
    const sqs = wrapSend(aws.clients.sqs, async (command, real) => {
      if (dead) throw new InjectedCrash('process is dead');
      const name = command.constructor.name as string;
      const input = command.input as Record<string, any>;
      if (name === 'SendMessageBatchCommand' && input.QueueUrl === queues.inbound.url) {
        if (armed === 'crash_after_x_read') die(armed);
        if (armed === 'crash_partial_inbound_batch' && input.Entries.length > 1) {
          const point = armed;
          const part = input.Entries.slice(0, rng.int(1, input.Entries.length - 1));
          await real(new (command.constructor as any)({ ...input, Entries: part }));
          die(point);
        }
        if (armed === 'crash_after_inbound_send') {
          const point = armed;
          await real(command);
          die(point);
        }
      }
      if (
        name === 'SendMessageCommand' &&
        input.QueueUrl === queues.results.url &&
        armed === 'crash_after_result_send'
      ) {
        const point = armed;
        await real(command);
        die(point);
      }
      return real(command);
    });
    const doc = wrapSend(aws.clients.doc, async (command, real) => {
      if (dead) throw new InjectedCrash('process is dead');
      const name = command.constructor.name as string;
      const input = command.input as Record<string, any>;
      const sk = String(input.Key?.sk ?? input.Item?.sk ?? '');
      if (
        armed === 'crash_before_checkpoint' &&
        name === 'UpdateCommand' &&
        sk === 'CHANNEL' &&
        String(input.UpdateExpression).includes('#cp = :next')
      )
        die(armed);
      if (
        armed === 'crash_after_x_post' &&
        name === 'UpdateCommand' &&
        sk.startsWith('IDEM#') &&
        input.ExpressionAttributeValues?.[':completed']
      )
        die(armed);
      if (armed === 'crash_during_token_refresh' && name === 'PutCommand' && sk.startsWith('LEASE#refresh')) {
        const point = armed;
        await real(command);
        die(point);
      }
      return real(command);
    });
    const clients: AwsClients = { ...aws.clients, sqs, doc };

    const baseEnv = {
      AWS_REGION: aws.region,
      TABLE_NAME: aws.tableName,
      XC_DYNAMODB_ENDPOINT: aws.endpoints.dynamodb,
      XC_SQS_ENDPOINT: aws.endpoints.sqs,
      XC_SECRETS_ENDPOINT: aws.endpoints.secretsManager,
      X_API_BASE_URL: sim.url,
      X_APP_SECRET_ID: APP_SECRET_ID,
    };
    const logger = createLogger({ serviceName: 'x-channel-reliability', logLevel: 'DEBUG' });
    const poller = composePoller(
      loadPollerConfig({
        ...baseEnv,
        INBOUND_QUEUE_URL: queues.inbound.url,
        POLL_JOBS_QUEUE_URL: queues.pollJobs.url,
        X_TIER: 'pay-per-use',
        POLL_LEASE_MS: '30000',
      }),
      { clients, clock, logger, sleep: async () => undefined },
    );
    const pollHandler = createPollerHandler(poller);
    const sender = composeSender(
      loadSenderConfig({
        ...baseEnv,
        RESULTS_QUEUE_URL: queues.results.url,
        OUTBOUND_DLQ_URL: queues.outbound.dlqUrl,
        X_APP_DM_BUDGET_PER_DAY: '1000000',
        X_APP_POST_BUDGET_PER_DAY: '1000000',
      }),
      { clients, clock, xTimeoutMs: options.xTimeoutMs ?? 400 },
    );
    const sendHandler = createSenderHandler(sender);
    const rawSqs = aws.clients.sqs;
    const store = createDynamoChannelStore({ client: aws.clients.doc, tableName: aws.tableName, clock });
    const vault = createSecretsTokenVault({ client: aws.clients.secrets, prefix: 'x-channel/tokens/' });

    // ---- channels --------------------------------------------------------------------------------
    const tracked: TrackedChannel[] = [];
    for (let i = 0; i < channelCount; i++) {
      const username = `brand${options.seed % 100000}x${i}`.slice(0, 15);
      const { id: accountId } = sim.createUser({ username, name: `Brand ${i}` });
      const app = createXAppClient({ apiBaseUrl: sim.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
      const link = app.generateOAuth2AuthLink(REDIRECT_URI, { scope: SCOPES, state: `st${i}` });
      secrets.set(link.codeVerifier, 'code_verifier');
      const u = new URL(link.url);
      const authUrl = new URL(`${sim.url}${u.pathname}${u.search}`);
      const res = await fetch(authUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username, decision: 'allow' }).toString(),
        redirect: 'manual',
      });
      const code = new URL(res.headers.get('location') ?? '').searchParams.get('code') ?? '';
      secrets.set(code, 'authorization_code');
      const login = await app.loginWithOAuth2({
        code,
        codeVerifier: link.codeVerifier,
        redirectUri: REDIRECT_URI,
      });
      const iso = clock.now().toISOString();
      const channel = activeChannel({
        id: `ch_r${options.seed.toString(36)}_${i}_${Math.random().toString(36).slice(2, 8)}`,
        account: { id: accountId, username, name: `Brand ${i}` },
        scopes: login.scope,
        at: iso,
      });
      await store.create(channel);
      await vault.put(channel.id, {
        accessToken: login.accessToken,
        refreshToken: login.refreshToken ?? null,
        expiresAt: new Date(nowMs + (login.expiresIn ?? 3600) * 1000).toISOString(),
        scopes: login.scope,
        updatedAt: iso,
      });
      tracked.push({ channel, accountId, username, revokedAt: null });
    }
    harvestSecrets();
    const customers = Array.from(
      { length: 3 },
      (_, i) => sim.createUser({ username: `cust${i}s${options.seed % 1000}`, name: `Customer ${i}` }).id,
    );

    // ---- what was created, what was received --------------------------------------------------------
    const created = new Map<string, { channelId: string; at: number }>(); // inbound id -> channel
    const received = new Map<string, number>();
    const inboundSeen: InboundMessage[] = [];
    const commands = new Map<string, { channelId: string; kind: string }>();
    const results = new Map<string, ResultMessage[]>();
    const tweetIdsByChannel = new Map<string, string[]>();

    const receive = (url: string, max = 10) =>
      rawSqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: max,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
    const ack = (url: string, m: Message) =>
      rawSqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
    const context = (fn: string) =>
      createLambdaContext({ functionName: fn, timeoutMs: 30_000, region: aws.region });

    // Poll jobs: the poller handler invoked with SQS-shaped events from real received messages.
    const failedPollJobs = new Map<string, Message>();
    async function invokePoller(messages: Message[]) {
      const records = messages.map((m) => toSqsRecord(m, queues.pollJobs.arn, aws.region));
      const response = await pollHandler({ Records: records } as SQSEvent, context('poller')).catch(
        () => undefined,
      );
      // the crashed process is gone; the next invocation is a fresh one (an unfired crash stays armed)
      dead = false;
      const failed = response === undefined ? 'all' : failedIdsFromResponse(response, records, true);
      for (const [i, r] of records.entries()) {
        if (failed === 'all' || failed.has(r.messageId)) failedPollJobs.set(r.messageId, messages[i]);
        else {
          failedPollJobs.delete(r.messageId);
          await ack(queues.pollJobs.url, messages[i]);
        }
      }
    }
    async function enqueuePoll(channelId: string) {
      await rawSqs.send(
        new SendMessageCommand({
          QueueUrl: queues.pollJobs.url,
          MessageBody: JSON.stringify({ channelId, tick: clock.now().toISOString() }),
        }),
      );
    }
    async function deliverPollJobs(concurrent: boolean) {
      for (let guard = 0; guard < 20; guard++) {
        const out = await receive(queues.pollJobs.url);
        const ms = out.Messages ?? [];
        if (!ms.length) return;
        if (concurrent && ms.length > 1) {
          count('duplicate_poll_jobs');
          await Promise.all(ms.map((m) => invokePoller([m])));
        } else await invokePoller(ms);
      }
    }
    async function redeliverPollJobs() {
      for (const m of failedPollJobs.values()) {
        await rawSqs
          .send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: queues.pollJobs.url,
              ReceiptHandle: m.ReceiptHandle,
              VisibilityTimeout: 0,
            }),
          )
          .catch(() => undefined);
      }
      failedPollJobs.clear();
      await deliverPollJobs(false);
    }

    // Outbound: the sender handler over real received outbound messages.
    const outboundInFlight = new Map<string, Message>();
    async function deliverOutbound() {
      for (let guard = 0; guard < 30; guard++) {
        const out = await receive(queues.outbound.url);
        const ms = out.Messages ?? [];
        if (!ms.length) return;
        const records: SQSRecord[] = ms.map((m) => toSqsRecord(m, queues.outbound.arn, aws.region));
        const response = await sendHandler({ Records: records } as SQSEvent, context('sender')).catch(
          () => undefined,
        );
        const wasDead = dead;
        dead = false;
        const failed =
          response === undefined || wasDead ? 'all' : failedIdsFromResponse(response, records, true);
        for (const [i, r] of records.entries()) {
          if (failed === 'all' || failed.has(r.messageId)) outboundInFlight.set(r.messageId, ms[i]);
          else {
            outboundInFlight.delete(r.messageId);
            await ack(queues.outbound.url, ms[i]);
          }
        }
      }
    }
    async function expireOutbound() {
      for (const m of outboundInFlight.values()) {
        await rawSqs
          .send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: queues.outbound.url,
              ReceiptHandle: m.ReceiptHandle,
              VisibilityTimeout: 0,
            }),
          )
          .catch(() => undefined);
      }
      outboundInFlight.clear();
    }

    // The fake case system: reads inbound, answers some; reads results.
    let keySeq = 0;
    async function caseSystem(answerRate: number) {
      for (;;) {
        const out = await receive(queues.inbound.url);
        if (!out.Messages?.length) break;
        for (const m of out.Messages) {
          surfaces.push(m.Body ?? '');
          const parsed = parseInbound(m.Body ?? '');
          if (!parsed.ok) throw new Error(`inbound body is not v1: ${parsed.error}`);
          const msg = parsed.value;
          received.set(msg.id, (received.get(msg.id) ?? 0) + 1);
          inboundSeen.push(msg);
          await ack(queues.inbound.url, m);
          if (rng.chance(answerRate)) {
            const key = `k${options.seed.toString(36)}-${++keySeq}`;
            const command = {
              schema: 'x-channel.outbound.v1',
              idempotencyKey: key,
              channelId: msg.channelId,
              kind: msg.replyTo.kind,
              targetId: msg.replyTo.targetId,
              text: `Thanks, we are on it [${key}]`,
            };
            commands.set(key, { channelId: msg.channelId, kind: command.kind });
            // sometimes the case system itself sends a command twice (its own retry)
            const copies = rng.chance(0.15) ? 2 : 1;
            for (let c = 0; c < copies; c++)
              await rawSqs.send(
                new SendMessageCommand({
                  QueueUrl: queues.outbound.url,
                  MessageBody: JSON.stringify(command),
                  MessageGroupId: `${msg.channelId}:${msg.conversationId}`,
                  MessageDeduplicationId: `${key}-${c}-${Math.random().toString(36).slice(2)}`,
                }),
              );
          }
        }
      }
      for (;;) {
        const out = await receive(queues.results.url);
        if (!out.Messages?.length) break;
        for (const m of out.Messages) {
          surfaces.push(m.Body ?? '');
          const r = JSON.parse(m.Body ?? '{}') as ResultMessage;
          results.set(r.idempotencyKey, [...(results.get(r.idempotencyKey) ?? []), r]);
          await ack(queues.results.url, m);
        }
      }
    }

    // Customers write at X.
    function customerActivity() {
      const n = rng.int(0, 4);
      for (let i = 0; i < n; i++) {
        const t = rng.pick(tracked);
        const who = rng.pick(customers);
        advance(rng.int(200, 3000));
        const kind = rng.int(0, 2);
        if (kind === 0 || kind === 1) {
          const threads = tweetIdsByChannel.get(t.channel.id) ?? [];
          const parent = kind === 1 && threads.length ? rng.pick(threads) : undefined;
          const tw = sim.createTweet({
            authorId: who,
            text: `@${t.username} help please ${rng.int(0, 1e6)}`,
            inReplyToId: parent,
          });
          tweetIdsByChannel.set(t.channel.id, [...threads, tw.id]);
          created.set(`x:tweet:${tw.id}`, { channelId: t.channel.id, at: nowMs });
        } else {
          const dm = sim.sendDm({ senderId: who, recipientId: t.accountId, text: `dm ${rng.int(0, 1e6)}` });
          created.set(`x:dm:${dm.id}`, { channelId: t.channel.id, at: nowMs });
        }
      }
    }

    function armXFault(kind: XFaultKind, t: TrackedChannel) {
      const readEndpoint = rng.pick(['GET /2/users/:id/mentions', 'GET /2/dm_events'] as const);
      const writeEndpoint = rng.pick([
        'POST /2/tweets',
        'POST /2/dm_conversations/with/:participant_id/messages',
        'POST /2/dm_conversations/:dm_conversation_id/messages',
      ] as const);
      const endpoint =
        kind === 'x_post_timeout' ? writeEndpoint : rng.chance(0.6) ? readEndpoint : writeEndpoint;
      const spec: FaultSpec =
        kind === 'x_429'
          ? { endpoint, kind: 'status', status: 429, resetSeconds: rng.int(5, 120), userId: t.accountId }
          : kind === 'x_500'
            ? { endpoint, kind: 'status', status: 500, userId: t.accountId }
            : kind === 'x_503'
              ? { endpoint, kind: 'status', status: 503, userId: t.accountId }
              : kind === 'x_reset'
                ? { endpoint, kind: 'reset', userId: t.accountId }
                : kind === 'x_malformed'
                  ? { endpoint: readEndpoint, kind: 'malformed', userId: t.accountId }
                  : { endpoint, kind: 'timeout', userId: t.accountId };
      sim.setFault(spec);
      count(kind);
    }

    // ---- the schedule ------------------------------------------------------------------------------
    for (let step = 0; step < steps; step++) {
      customerActivity();
      if (rng.chance(faultRate)) {
        const roll = rng.next();
        const t = rng.pick(tracked);
        if (roll < 0.4) armXFault(rng.pick(X_FAULTS), t);
        else if (roll < 0.8) armed = rng.pick(CRASH_POINTS);
        else if (roll < 0.9) {
          advance(3600_000 + rng.int(0, 600_000)); // past the access token's life: the poller refreshes
          count('token_expiry');
        } else if (roll < 0.95 && t.revokedAt === null) {
          sim.revokeUserTokens(t.accountId);
          t.revokedAt = nowMs;
          count('token_revocation');
        } else count('visibility_expiry');
      }
      const duplicate = rng.chance(0.15);
      for (const t of tracked) {
        await enqueuePoll(t.channel.id);
        if (duplicate) await enqueuePoll(t.channel.id);
      }
      await timed('poll', () => deliverPollJobs(duplicate));
      if (rng.chance(0.3)) {
        count('redelivery');
        await redeliverPollJobs();
      }
      await timed('case', () => caseSystem(0.5));
      await timed('send', () => deliverOutbound());
      if (report.faults.visibility_expiry || rng.chance(0.3)) await expireOutbound();
      await caseSystem(0);
      harvestSecrets();
      advance(rng.int(30_000, 90_000)); // past poll leases, rate resets and sender leases over time
    }

    // ---- quiesce: no new faults; let every retry, lease and reset run out ---------------------------
    armed = null;
    sim.clearFaults();
    const quiesceStart = performance.now();
    for (let round = 0; round < 8; round++) {
      advance(16 * 60_000); // beyond the longest 429 reset and every lease
      const before = received.size + results.size;
      for (const t of tracked) await enqueuePoll(t.channel.id);
      await redeliverPollJobs();
      await caseSystem(0);
      await expireOutbound();
      await deliverOutbound();
      await caseSystem(0);
      // settled: a full round moved nothing and nothing waits for a retry
      const settled =
        received.size + results.size === before && !failedPollJobs.size && !outboundInFlight.size;
      if (round >= 1 && settled) break;
    }
    if (PROFILE) phases.quiesce = (phases.quiesce ?? 0) + performance.now() - quiesceStart;
    harvestSecrets();

    // ---- accounting --------------------------------------------------------------------------------
    report.items = created.size;
    report.commands = commands.size;
    for (const [id, n] of received) if (n > 1) report.duplicated.push(`${id} x${n}`);
    const accountIds = new Set(tracked.map((t) => t.accountId));
    for (const m of inboundSeen) if (accountIds.has(m.author.id)) report.echoes.push(m.id);
    for (const t of tracked) {
      const final = await store.get(t.channel.id);
      const mine = [...created].filter(([, v]) => v.channelId === t.channel.id).map(([id]) => id);
      const undelivered = mine.filter((id) => !received.has(id));
      if (final && final.status !== 'active') {
        report.accountedInHealth.push({
          channelId: t.channel.id,
          status: final.status,
          reason: final.statusReason,
          undelivered: undelivered.length,
        });
        // a stopped channel must say why; its undelivered items are accounted for by that reason
        if (!final.statusReason)
          report.lost.push(...undelivered.map((id) => `${id} (status ${final.status} without reason)`));
        surfaces.push(JSON.stringify(final));
      } else report.lost.push(...undelivered);
    }
    for (const [key] of commands) {
      const rs = results.get(key) ?? [];
      if (!rs.length) report.missingResults.push(key);
      else if (new Set(rs.map((r) => JSON.stringify(r))).size > 1) report.conflictingResults.push(key);
    }
    const posts = [
      ...sim.state.tweets.map((t) => ({ id: t.id, text: t.text })),
      ...sim.state.dms.map((d) => ({ id: d.id, text: d.text })),
    ];
    for (const [key] of commands) {
      const carrying = posts.filter((p) => p.text.includes(`[${key}]`));
      if (carrying.length > 1) report.doublePosts.push(`${key} x${carrying.length}`);
      const sent = (results.get(key) ?? []).find((r) => r.status === 'sent');
      if (sent && (carrying.length !== 1 || carrying[0].id !== sent.xId)) report.sentWithoutPost.push(key);
    }
    for (const e of sim.tokenLog()) if (e.alreadySpent) report.refreshReuse++;
    // After a 429 with reset R on (endpoint, user), no call to it before R.
    const blocked = new Map<string, number>();
    for (const e of sim.rateLimitLog()) {
      const k = `${e.endpoint}|${e.userId}`;
      const until = blocked.get(k);
      if (until !== undefined && e.at < until * 1000)
        report.rateViolations.push(`${k} at ${new Date(e.at).toISOString()}`);
      if (e.status === 429 && e.reset) blocked.set(k, e.reset);
    }
    for (const c of tracked) {
      const h = await fetchHealthSurface(store, c.channel.id);
      surfaces.push(h);
    }
    // DLQ bodies and error bodies of results are surfaces too.
    for (const url of [queues.outbound.dlqUrl, queues.pollJobs.dlqUrl, queues.inbound.dlqUrl]) {
      const out = await receive(url);
      for (const m of out.Messages ?? []) surfaces.push(JSON.stringify(m));
    }
    await sim.stop().catch(() => undefined);
  } finally {
    process.stdout.write = origOut;
    process.stderr.write = origErr;
    await sim.stop().catch(() => undefined);
  }
  const haystack = [...surfaces, ...captureOut].join('\n');
  for (const [value, kind] of secrets)
    if (value.length >= 8 && haystack.includes(value)) report.leaked.push(kind);
  return report;
}

async function fetchHealthSurface(store: ReturnType<typeof createDynamoChannelStore>, id: string) {
  return JSON.stringify(await store.get(id));
}

/** One line per failure class, naming the seed: printed by the tests and the soak script. */
export function describeFailure(r: RunReport): string {
  const parts = Object.entries({
    lost: r.lost,
    duplicated: r.duplicated,
    missingResults: r.missingResults,
    conflictingResults: r.conflictingResults,
    doublePosts: r.doublePosts,
    sentWithoutPost: r.sentWithoutPost,
    leaked: r.leaked,
    rateViolations: r.rateViolations,
    echoes: r.echoes,
  })
    .filter(([, v]) => v.length)
    .map(([k, v]) => `${k}=${JSON.stringify(v.slice(0, 5))}`);
  if (r.refreshReuse) parts.push(`refreshReuse=${r.refreshReuse}`);
  return `seed ${r.seed} (reproduce: XC_RELIABILITY_SEED=${r.seed} npx jest test/reliability): ${parts.join(' ')}`;
}
