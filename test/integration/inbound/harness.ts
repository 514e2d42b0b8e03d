/**
 * Inbound end to end for tests: the real dispatcher and poller handlers (middy + Powertools) over the
 * real DynamoDB, SQS and Secrets Manager stand-ins and the simulated X, all on one injected clock.
 * Poll jobs are delivered with Lambda's event-source rules (successes deleted, failures left for a
 * redelivery the test triggers explicitly).
 */
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { createDynamoChannelStore } from '../../../adapters/aws/dynamo-channel-store';
import type { QueueRole } from '../../../adapters/aws/queues';
import { createSecretsTokenVault } from '../../../adapters/aws/secrets-token-vault';
import { parseInbound, type InboundMessage } from '../../../contracts';
import type { Channel } from '../../../core/channel';
import type { Clock } from '../../../core/ports';
import { createLogger } from '../../../lambdas/shared/logger';
import { compose as composeDispatcher, type DispatcherRuntime } from '../../../lambdas/dispatcher/compose';
import { loadConfig as loadDispatcherConfig } from '../../../lambdas/dispatcher/config';
import { createApp as createPollerHandler } from '../../../lambdas/poller/app';
import {
  compose as composePoller,
  type ComposeOverrides as PollerComposeOverrides,
  type PollerRuntime,
} from '../../../lambdas/poller/compose';
import { loadConfig as loadPollerConfig } from '../../../lambdas/poller/config';
import { failedIdsFromResponse, toSqsRecord } from '../../../local/event-source';
import { createLambdaContext } from '../../../local/lambda-context';
import type { SimX } from '../../../sim/x/server';
import type { QueueWithDlq } from '../../../stand-ins/sqs';
import { startLocalAws, type LocalAws } from '../../helpers/local-aws';
import { CLIENT_ID, CLIENT_SECRET, signIn, startTestSim, testClock } from '../sim-x/helpers';
import { activeChannel } from '../../helpers/channel-fixture';

/** The simulator's hand-moved clock as our `Clock`. */
/** What every inbound integration file uses: one set of AWS stand-ins per file, a fresh simulated X and clock per test. */
export interface InboundWorld {
  aws: LocalAws;
  sim: SimX;
  clock: ReturnType<typeof testClock>;
}

/** Registers the jest hooks that keep an {@link InboundWorld} up; read its fields inside tests and hooks. */
export function useInboundWorld(): InboundWorld {
  const world = {} as InboundWorld;
  beforeAll(async () => {
    world.aws = await startLocalAws();
  });
  afterAll(async () => {
    await world.aws.stop();
  });
  beforeEach(async () => {
    world.clock = testClock();
    world.sim = await startTestSim({ clock: world.clock });
  });
  afterEach(async () => {
    await world.sim.stop();
  });
  return world;
}

export function clockOf(sim: SimX): Clock {
  return { now: () => new Date(sim.now()) };
}

export interface InboundHarness {
  queues: Record<QueueRole, QueueWithDlq>;
  poller: PollerRuntime;
  dispatcher: DispatcherRuntime;
  /** Poll-job receipts the handler failed (left for redelivery). */
  failedJobs: number;
  /** One dispatcher tick, then every poll job it enqueued through the poller handler. */
  tick(): Promise<{ enqueued: number; jobs: number }>;
  /** Delivers the poll jobs on the queue through the poller handler, without a dispatcher tick. */
  deliverJobs(): Promise<number>;
  /** Makes failed poll jobs visible again (as after their visibility timeout) and delivers them. */
  redeliver(): Promise<number>;
  /** Receives (and deletes) everything on the inbound queue; every body must parse as inbound v1. */
  drainInbound(): Promise<InboundMessage[]>;
}

export async function startInboundHarness(
  aws: LocalAws,
  sim: SimX,
  options: { tier?: string; overrides?: PollerComposeOverrides; env?: Record<string, string> } = {},
): Promise<InboundHarness> {
  const queues = await aws.createQueues(`-i${randomUUID().slice(0, 6)}`);
  await aws.clients.secrets
    .send(
      new CreateSecretCommand({
        Name: 'x-channel/app',
        SecretString: JSON.stringify({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }),
      }),
    )
    .catch((e: Error) => {
      if (e.name !== 'ResourceExistsException') throw e;
    });
  const env = {
    AWS_REGION: aws.region,
    TABLE_NAME: aws.tableName,
    XC_DYNAMODB_ENDPOINT: aws.endpoints.dynamodb,
    XC_SQS_ENDPOINT: aws.endpoints.sqs,
    XC_SECRETS_ENDPOINT: aws.endpoints.secretsManager,
    X_API_BASE_URL: sim.url,
    X_APP_SECRET_ID: 'x-channel/app',
    INBOUND_QUEUE_URL: queues.inbound.url,
    POLL_JOBS_QUEUE_URL: queues.pollJobs.url,
    X_TIER: options.tier ?? 'pay-per-use',
    ...options.env,
  };
  const clock = clockOf(sim);
  // quiet handlers: jest's console capture is slow, and these tests assert on state, not on logs
  const logger = createLogger({ logLevel: 'ERROR' });
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const poller = composePoller(loadPollerConfig(env), {
    clients: aws.clients,
    clock,
    logger,
    sleep: async () => undefined,
    ...options.overrides,
  });
  const dispatcher = composeDispatcher(loadDispatcherConfig(env), { clients: aws.clients, clock, logger });
  const handler = createPollerHandler(poller);
  const sqs = aws.clients.sqs;
  const failed = new Map<string, string>();

  const receive = (url: string) =>
    sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
      }),
    );

  async function deliverJobs(): Promise<number> {
    let total = 0;
    for (;;) {
      const out = await receive(queues.pollJobs.url);
      const messages = out.Messages ?? [];
      if (!messages.length) return total;
      total += messages.length;
      const records = messages.map((m) => toSqsRecord(m, queues.pollJobs.arn, aws.region));
      const context = createLambdaContext({ functionName: 'poller', timeoutMs: 30_000, region: aws.region });
      // Powertools throws when every record of a batch failed; Lambda then retries them all
      const response = await handler({ Records: records }, context).catch(() => undefined);
      const failedIds = response === undefined ? 'all' : failedIdsFromResponse(response, records, true);
      for (const r of records) {
        if (failedIds === 'all' || failedIds.has(r.messageId)) failed.set(r.messageId, r.receiptHandle);
        else
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: queues.pollJobs.url, ReceiptHandle: r.receiptHandle }),
          );
      }
    }
  }

  const h: InboundHarness = {
    queues,
    poller,
    dispatcher,
    get failedJobs() {
      return failed.size;
    },
    deliverJobs,
    async tick() {
      const outcome = await dispatcher.tick();
      return { enqueued: outcome.enqueued, jobs: await deliverJobs() };
    },
    async redeliver() {
      for (const [id, handle] of failed) {
        await sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queues.pollJobs.url,
            ReceiptHandle: handle,
            VisibilityTimeout: 0,
          }),
        );
        failed.delete(id);
      }
      return deliverJobs();
    },
    async drainInbound() {
      const all: InboundMessage[] = [];
      for (;;) {
        const out = await receive(queues.inbound.url);
        if (!out.Messages?.length) return all;
        for (const m of out.Messages) {
          const parsed = parseInbound(m.Body ?? '');
          if (!parsed.ok) throw new Error(`inbound body is not v1: ${parsed.error}`);
          all.push(parsed.value);
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: queues.inbound.url, ReceiptHandle: m.ReceiptHandle }),
          );
        }
      }
    },
  };
  return h;
}

/** A connected channel: the account signed in at the simulated X, the channel record and its tokens in the vault. */
export async function connectChannel(
  aws: LocalAws,
  sim: SimX,
  username: string,
  overrides: Partial<Channel> = {},
): Promise<{ channel: Channel; accountId: string }> {
  const { id: accountId } = sim.createUser({ username, name: `${username} support` });
  const login = await signIn(sim, username);
  const now = new Date(sim.now()).toISOString();
  const channel = activeChannel({
    id: `ch_${randomUUID().replace(/-/g, '').slice(0, 12)}`,
    account: { id: accountId, username, name: `${username} support` },
    scopes: login.scope,
    at: now,
    overrides,
  });
  // the store's clock stamps the first due time: the simulator's clock, like the poller's
  await createDynamoChannelStore({
    client: aws.clients.doc,
    tableName: aws.tableName,
    clock: clockOf(sim),
  }).create(channel);
  await createSecretsTokenVault({ client: aws.clients.secrets, prefix: 'x-channel/tokens/' }).put(
    channel.id,
    {
      accessToken: login.accessToken,
      refreshToken: login.refreshToken ?? null,
      expiresAt: new Date(sim.now() + (login.expiresIn ?? 7200) * 1000).toISOString(),
      scopes: login.scope,
      updatedAt: now,
    },
  );
  return { channel, accountId };
}
