/** The shared test harness itself: what other integration tests get from startLocalAws(). */
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { QUEUES } from '../../../adapters/aws/queues';
import { startLocalAws, type LocalAws } from '../../helpers/local-aws';

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(() => aws.stop());

describe('startLocalAws', () => {
  it('uses the run-wide DynamoDB Local and loopback stand-ins, with its own table', async () => {
    const tables = await aws.clients.dynamodb.send(new ListTablesCommand({}));

    expect(aws.endpoints.dynamodb).toBe(process.env.XC_TEST_DYNAMODB_ENDPOINT);
    expect(aws.endpoints.sqs).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(aws.endpoints.secretsManager).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(tables.TableNames).toContain(aws.tableName);
  });

  it('creates all four queues with DLQs, unique per call', async () => {
    const a = await aws.createQueues();
    const b = await aws.createQueues();
    const redrive = await aws.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: a.outbound.url, AttributeNames: ['RedrivePolicy'] }),
    );

    expect(Object.keys(a).sort()).toEqual(Object.keys(QUEUES).sort());
    expect(a.inbound.url).not.toBe(b.inbound.url);
    expect(a.inbound.url).toMatch(/\.fifo$/);
    expect(a.results.url).not.toMatch(/\.fifo$/);
    expect(JSON.parse(redrive.Attributes!.RedrivePolicy!).maxReceiveCount).toBe(
      QUEUES.outbound.maxReceiveCount,
    );
  });

  it('gives clients that reach every stand-in', async () => {
    const { results } = await aws.createQueues('-reach');
    await aws.clients.sqs.send(new SendMessageCommand({ QueueUrl: results.url, MessageBody: '{"ok":true}' }));
    await aws.clients.secrets.send(new CreateSecretCommand({ Name: 'reach', SecretString: 's3cr3t-value' }));

    const got = await aws.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: results.url, WaitTimeSeconds: 1 }),
    );
    const secret = await aws.clients.secrets.send(new GetSecretValueCommand({ SecretId: 'reach' }));

    expect(got.Messages?.[0]?.Body).toBe('{"ok":true}');
    expect(secret.SecretString).toBe('s3cr3t-value');
  });
});
