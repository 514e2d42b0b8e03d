import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { createAwsClients } from '../../../adapters/aws/clients';
import { startLocal } from '../../../local/start-local';

describe('npm start persistence under the data directory', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'xc-persist-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps table items, queued messages, the admin token and the app credentials across a restart', async () => {
    // No handlers: this test is about the stand-ins' state, and a handler module is imported once per process.
    const first = await startLocal({ dataDir, functions: [], receiveWaitSeconds: 1 });
    const c1 = createAwsClients({
      region: first.localJson.region,
      endpoints: first.localJson.endpoints,
      credentials: first.localJson.credentials,
    });
    try {
      await c1.doc.send(
        new PutCommand({
          TableName: first.tableName,
          Item: { pk: 'CH#persist', sk: 'CHANNEL', name: 'kept' },
        }),
      );
      await c1.sqs.send(
        new SendMessageCommand({
          QueueUrl: first.queues.inbound.url,
          MessageBody: '{"kept":true}',
          MessageGroupId: 'g1',
          MessageDeduplicationId: 'd1',
        }),
      );
    } finally {
      c1.doc.destroy();
      c1.sqs.destroy();
      c1.secrets.destroy();
      await first.stop();
    }

    const second = await startLocal({ dataDir, functions: [], receiveWaitSeconds: 1 });
    const c2 = createAwsClients({
      region: second.localJson.region,
      endpoints: second.localJson.endpoints,
      credentials: second.localJson.credentials,
    });
    try {
      expect(second.localJson.adminToken).toBe(first.localJson.adminToken);
      // The stand-ins' key pair is per data directory: the same after a restart.
      expect(second.localJson.credentials).toEqual(first.localJson.credentials);
      const item = await c2.doc.send(
        new GetCommand({ TableName: second.tableName, Key: { pk: 'CH#persist', sk: 'CHANNEL' } }),
      );
      expect(item.Item).toMatchObject({ name: 'kept' });
      const got = await c2.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: second.queues.inbound.url,
          WaitTimeSeconds: 2,
          MaxNumberOfMessages: 10,
        }),
      );
      expect((got.Messages ?? []).map((m) => m.Body)).toEqual(['{"kept":true}']);
    } finally {
      c2.doc.destroy();
      c2.sqs.destroy();
      c2.secrets.destroy();
      await second.stop();
    }
  });
});
