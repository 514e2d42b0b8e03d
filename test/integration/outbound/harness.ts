/**
 * The sender end to end for tests: the real handler (middy + Powertools batch) over the real SQS,
 * DynamoDB and Secrets Manager stand-ins and the simulated X, driven one receive at a time with the
 * Lambda event-source rules (successes deleted, failures left with the visibility the handler set).
 */
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { createDynamoChannelStore } from '../../../adapters/aws/dynamo-channel-store';
import type { QueueRole } from '../../../adapters/aws/queues';
import type { ResultMessage } from '../../../contracts';
import type { Channel } from '../../../core/channel';
import { createLambdaContext } from '../../../local/lambda-context';
import { failedIdsFromResponse, toSqsRecord } from '../../../local/event-source';
import { createApp as createSenderHandler } from '../../../lambdas/sender/app';
import {
  compose as composeSender,
  type ComposeOverrides,
  type SenderRuntime,
} from '../../../lambdas/sender/compose';
import { loadConfig } from '../../../lambdas/sender/config';
import type { SimX } from '../../../sim/x/server';
import { startLocalAws, type LocalAws } from '../../helpers/local-aws';
import type { QueueWithDlq } from '../../../stand-ins/sqs';
import { ALL_SCOPES, CLIENT_ID, CLIENT_SECRET, signIn, startTestSim } from '../sim-x/helpers';
import { activeChannel } from '../../helpers/channel-fixture';

/** A clock the test can move forward (the lease expiry is read from it). */
export class ShiftClock {
  offsetMs = 0;
  now = () => new Date(Date.now() + this.offsetMs);
  advanceSeconds(seconds: number) {
    this.offsetMs += seconds * 1000;
  }
}

export interface SenderHarness {
  runtime: SenderRuntime;
  queues: Record<QueueRole, QueueWithDlq>;
  clock: ShiftClock;
  /** Every X request the sender made, as `METHOD /template`. */
  xRequests: string[];
  send(command: Record<string, unknown> | string, groupId?: string): Promise<void>;
  /** One receive + one handler invocation; returns how many records the batch had. */
  deliverOnce(): Promise<number>;
  /** Delivers until the queue returns nothing visible. */
  drain(): Promise<void>;
  /** Makes every in-flight outbound message visible now (as if its visibility timeout had passed). */
  expireVisibility(): Promise<void>;
  results(): Promise<ResultMessage[]>;
  dlq(): Promise<Message[]>;
}

/** One set of AWS stand-ins, one simulated X and one sender harness on them for a whole test file. */
export interface SenderWorld {
  aws: LocalAws;
  sim: SimX;
  h: SenderHarness;
}

/** Registers the jest hooks that keep a {@link SenderWorld} up; read its fields inside tests and hooks. */
export function useSenderWorld(): SenderWorld {
  const world = {} as SenderWorld;
  beforeAll(async () => {
    world.aws = await startLocalAws();
    world.sim = await startTestSim();
    world.h = await startSenderHarness(world.aws, world.sim);
  });
  afterAll(async () => {
    await world.sim?.stop();
    await world.aws?.stop();
  });
  return world;
}

export async function startSenderHarness(
  aws: LocalAws,
  sim: SimX,
  overrides: ComposeOverrides = {},
  env: Record<string, string> = {},
): Promise<SenderHarness> {
  await ensureAppSecret(aws);
  const queues = await aws.createQueues(`-s${randomUUID().slice(0, 6)}`);
  const clock = new ShiftClock();
  const xRequests: string[] = [];
  const config = loadConfig({
    AWS_REGION: aws.region,
    TABLE_NAME: aws.tableName,
    XC_DYNAMODB_ENDPOINT: aws.endpoints.dynamodb,
    XC_SQS_ENDPOINT: aws.endpoints.sqs,
    XC_SECRETS_ENDPOINT: aws.endpoints.secretsManager,
    X_API_BASE_URL: sim.url,
    X_APP_SECRET_ID: 'x-channel/app',
    RESULTS_QUEUE_URL: queues.results.url,
    OUTBOUND_DLQ_URL: queues.outbound.dlqUrl,
    ...env,
  });
  const runtime = composeSender(config, {
    clients: aws.clients,
    clock,
    onXRequest: (r) => xRequests.push(`${r.method} ${r.path}`),
    xTimeoutMs: 1500,
    ...overrides,
  });
  const handler = createSenderHandler(runtime);
  // Held messages (the handler changed their visibility) stay invisible: a receive skips them.
  const inFlight = new Map<string, string>();
  const sqs = aws.clients.sqs;

  const receive = (url: string) =>
    sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );

  const h: SenderHarness = {
    runtime,
    queues,
    clock,
    xRequests,
    async send(command, groupId) {
      const body = typeof command === 'string' ? command : JSON.stringify(command);
      const c = typeof command === 'string' ? {} : command;
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queues.outbound.url,
          MessageBody: body,
          MessageGroupId: groupId ?? `${String(c.channelId ?? 'x')}:${String(c.targetId ?? 'post')}`,
          // a fresh dedup id: each send is a real (re)delivery, not collapsed by FIFO dedup
          MessageDeduplicationId: randomUUID(),
        }),
      );
    },
    async deliverOnce() {
      const out = await receive(queues.outbound.url);
      const messages = out.Messages ?? [];
      if (!messages.length) return 0;
      const records = messages.map((m) => toSqsRecord(m, queues.outbound.arn, aws.region));
      const context = createLambdaContext({ functionName: 'sender', timeoutMs: 30_000, region: aws.region });
      const response = await handler({ Records: records }, context);
      const failed = failedIdsFromResponse(response, records, true);
      for (const r of records) {
        if (failed === 'all' || failed.has(r.messageId)) inFlight.set(r.messageId, r.receiptHandle);
        else
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: queues.outbound.url, ReceiptHandle: r.receiptHandle }),
          );
      }
      return records.length;
    },
    async drain() {
      for (let i = 0; i < 50; i++) if ((await h.deliverOnce()) === 0) return;
      throw new Error('outbound queue did not drain');
    },
    async expireVisibility() {
      for (const [id, handle] of inFlight) {
        await sqs
          .send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: queues.outbound.url,
              ReceiptHandle: handle,
              VisibilityTimeout: 0,
            }),
          )
          .catch(() => undefined);
        inFlight.delete(id);
      }
    },
    async results() {
      const all: ResultMessage[] = [];
      for (;;) {
        const out = await receive(queues.results.url);
        if (!out.Messages?.length) return all;
        for (const m of out.Messages) {
          all.push(JSON.parse(m.Body ?? '{}'));
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: queues.results.url, ReceiptHandle: m.ReceiptHandle }),
          );
        }
      }
    },
    async dlq() {
      const out = await receive(queues.outbound.dlqUrl);
      return out.Messages ?? [];
    },
  };
  return h;
}

/** The X app credentials secret the token provider refreshes with (the simulated X's test app). */
async function ensureAppSecret(aws: LocalAws) {
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
}

/** A connected channel: the account signed in at the simulated X, the channel record and its token secret. */
export async function connectChannel(
  aws: LocalAws,
  sim: SimX,
  username: string,
  overrides: Partial<Channel> = {},
  /** Scopes granted besides the test app's usual ones (e.g. `media.write`). */
  extraScopes: readonly string[] = [],
): Promise<{ channel: Channel; accountId: string; accessToken: string }> {
  const { id: accountId } = sim.createUser({ username, name: `${username} support` });
  const login = await signIn(sim, username, [...ALL_SCOPES, ...extraScopes]);
  const now = new Date().toISOString();
  const channel = activeChannel({
    id: `ch_${randomUUID().replace(/-/g, '').slice(0, 12)}`,
    account: { id: accountId, username, name: `${username} support` },
    scopes: login.scope,
    at: now,
    overrides,
  });
  await createDynamoChannelStore({ client: aws.clients.doc, tableName: aws.tableName }).create(channel);
  await aws.clients.secrets.send(
    new CreateSecretCommand({
      Name: `x-channel/tokens/${channel.id}`,
      SecretString: JSON.stringify({
        accessToken: login.accessToken,
        refreshToken: login.refreshToken,
        expiresAt: new Date(Date.now() + (login.expiresIn ?? 7200) * 1000).toISOString(),
        scopes: login.scope,
        updatedAt: now,
      }),
    }),
  );
  return { channel, accountId, accessToken: login.accessToken };
}

/** `GET /_sim/tweets?authorId=` through the control API. */
export async function simTweets(sim: SimX, authorId: string) {
  const res = await fetch(`${sim.url}/_sim/tweets?authorId=${authorId}`);
  return ((await res.json()) as { data: Array<{ id: string; text: string; inReplyToId: string | null }> })
    .data;
}

export async function simDms(sim: SimX, senderId: string) {
  const res = await fetch(`${sim.url}/_sim/dms?senderId=${senderId}`);
  return ((await res.json()) as { data: Array<{ id: string; text: string; conversationId: string }> }).data;
}
