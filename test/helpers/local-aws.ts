/**
 * The local AWS for one integration test file: real AWS SDK v3 clients against
 * - the run-wide DynamoDB Local from test/global-setup.ts, with a table of this call's own,
 * - an SQS stand-in (stand-ins/sqs.ts) and a Secrets Manager stand-in started in-process on free ports.
 *
 * @example
 * let aws: LocalAws;
 * beforeAll(async () => { aws = await startLocalAws(); });
 * afterAll(() => aws.stop());
 * it('...', async () => {
 *   const queues = await aws.createQueues();
 *   await aws.clients.sqs.send(new SendMessageCommand({ QueueUrl: queues.results.url, MessageBody: '{}' }));
 * });
 */
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { createAwsClients, type AwsClients } from '../../adapters/aws/clients';
import { QUEUES, type QueueRole } from '../../adapters/aws/queues';
import { ensureTable } from '../../adapters/aws/table';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../stand-ins/dynamodb-local';
import { startSecretsManager } from '../../stand-ins/secrets-manager';
import { createQueueWithDlq, startSqs, type QueueWithDlq } from '../../stand-ins/sqs';

/** What {@link startLocalAws} gives a test file. */
export interface LocalAws {
  region: string;
  endpoints: { dynamodb: string; sqs: string; secretsManager: string };
  /** The key pair the stand-ins accept (random per call); the clients below sign with it. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** `createAwsClients(...)` pointed at the stand-ins, exactly as the local runtime builds them. */
  clients: AwsClients;
  /** A table unique to this call, created with `ensureTable` (GSIs and TTL included). */
  tableName: string;
  /** Creates all four queues of the topology with their DLQs, under names unique to this call. */
  createQueues(suffix?: string): Promise<Record<QueueRole, QueueWithDlq>>;
  /**
   * Puts the SQS stand-in on another clock (dedup windows, visibility, delays, retention), e.g. a run's
   * simulated clock; `undefined` puts it back on real time.
   */
  setSqsClock(now: (() => number) | undefined): void;
  /** Stops the in-process stand-ins, drops the table and closes the clients. */
  stop(): Promise<void>;
}

const uniqueId = () => `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

/**
 * Starts the local AWS for a test file. Outside jest's globalSetup (no `XC_TEST_DYNAMODB_ENDPOINT`)
 * it starts a DynamoDB Local of its own and stops it in `stop()`.
 */
export async function startLocalAws(options: { region?: string } = {}): Promise<LocalAws> {
  const region = options.region ?? 'us-east-1';
  let ownDynamo: DynamoDbLocal | undefined;
  const dynamodb =
    process.env.XC_TEST_DYNAMODB_ENDPOINT ?? (ownDynamo = await startDynamoDbLocal({ port: 0 })).endpoint;
  const credentials = {
    accessKeyId: `LOCALTEST${uniqueId().toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
  let sqsNow: () => number = Date.now;
  const [sqs, secrets] = await Promise.all([
    startSqs({ port: 0, region, credentials, now: () => sqsNow() }),
    startSecretsManager({ port: 0, region, credentials }),
  ]);
  const endpoints = { dynamodb, sqs: sqs.endpoint, secretsManager: secrets.endpoint };
  const clients = createAwsClients({ region, endpoints, credentials });
  const tableName = `xc-test-${uniqueId()}`;
  await ensureTable(clients.dynamodb, tableName);

  return {
    region,
    endpoints,
    credentials,
    clients,
    tableName,
    async createQueues(suffix = `-${uniqueId()}`) {
      const entries = await Promise.all(
        Object.values(QUEUES).map(
          async (spec) => [spec.role, await createQueueWithDlq(clients.sqs, spec, suffix)] as const,
        ),
      );
      return Object.fromEntries(entries) as Record<QueueRole, QueueWithDlq>;
    },
    setSqsClock(now) {
      sqsNow = now ?? Date.now;
    },
    async stop() {
      // The shared DynamoDB Local lives for the whole run: drop this file's table to free its memory.
      await clients.dynamodb.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
      clients.dynamodb.destroy();
      clients.sqs.destroy();
      clients.secrets.destroy();
      await Promise.all([sqs.stop(), secrets.stop(), ownDynamo?.stop()]);
    },
  };
}
