import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createAwsClients, type AwsClients } from '../../../adapters/aws/clients';
import { createS3Client } from '../../../adapters/aws/s3';
import { localJsonSchema, startLocal, type LocalStack } from '../../../local/main';
import { TOKEN_SECRET_PREFIX, X_APP_SECRET_ID } from '../../../local/start-local';

/** How many revoke calls the simulated X of `stack` answered (its own request counter). */
async function revokesAt(stack: LocalStack): Promise<number> {
  const res = await fetch(`${stack.localJson.x.controlUrl}/_sim/requests`);
  const body = (await res.json()) as { data: Record<string, number> };
  return body.data['POST /2/oauth2/revoke'] ?? 0;
}

/** The first stack's AWS key pair: a later `memory` run must get a fresh one. */
let firstCredentials: LocalStack['localJson']['credentials'] | undefined;

describe('startLocal({ memory: true }): the whole stack in-process', () => {
  let dataDir: string;
  let stack: LocalStack;
  let clients: AwsClients;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'xc-local-'));
    stack = await startLocal({
      memory: true,
      dataDir,
      // Reuse the run's DynamoDB Local when jest's globalSetup started one (a table of our own).
      dynamodbEndpoint: process.env.XC_TEST_DYNAMODB_ENDPOINT,
      tableName: `xc-local-${process.pid}-${Date.now()}`,
      receiveWaitSeconds: 1,
      drainTimeoutMs: 2000,
      scheduleIntervalMs: 200,
    });
    clients = createAwsClients({
      region: stack.localJson.region,
      endpoints: stack.localJson.endpoints,
      credentials: stack.localJson.credentials,
    });
  });
  afterAll(async () => {
    clients?.sqs.destroy();
    clients?.dynamodb.destroy();
    clients?.secrets.destroy();
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes a local.json with exactly the fixed shape, readable by the owner only', () => {
    const onDisk = JSON.parse(readFileSync(path.join(dataDir, 'local.json'), 'utf8'));
    expect(localJsonSchema.parse(onDisk)).toEqual(stack.localJson);
    expect(Object.keys(onDisk).sort()).toEqual(
      [
        'adminLoginUrl',
        'adminToken',
        'adminUrl',
        'apiUrl',
        'buckets',
        'credentials',
        'endpoints',
        'queues',
        'region',
        'x',
      ].sort(),
    );
    // A one-time sign-in link on the console, not the admin token (console-sign-in.ts).
    expect(onDisk.adminLoginUrl).not.toContain(onDisk.adminToken);
    expect(onDisk.adminLoginUrl).toMatch(new RegExp(`^${onDisk.apiUrl}/#signin=[\\w-]{43}$`));
    expect(onDisk.x.mode).toBe('simulated');
    expect(onDisk.credentials).toEqual({
      accessKeyId: expect.stringMatching(/^[A-Z0-9]{20}$/),
      secretAccessKey: expect.stringMatching(/^[A-Za-z0-9+/]{40}$/),
    });
    firstCredentials = onDisk.credentials;
    expect(statSync(path.join(dataDir, 'local.json')).mode & 0o077).toBe(0);
  });

  it('registers the local /x/webhook with the simulated X, whose CRC the webhook function answers', async () => {
    const control = stack.localJson.x.controlUrl!;
    const hooks = (await (await fetch(`${control}/_sim/webhooks`)).json()) as {
      data: Array<{ url: string; valid: boolean }>;
    };
    expect(hooks.data).toEqual([
      expect.objectContaining({ url: `${stack.localJson.apiUrl}/x/webhook`, valid: true }),
    ]);
    // X's periodic CRC, run now: still valid (a wrong answer would mark it invalid at once)
    const crc = (await (await fetch(`${control}/_sim/webhooks/crc`, { method: 'POST' })).json()) as {
      data: Array<{ valid: boolean }>;
    };
    expect(crc.data).toEqual([expect.objectContaining({ valid: true })]);
  });

  it('creates the table, the four queues with DLQs and the X app secret through the real clients', async () => {
    const table = await clients.dynamodb.send(new DescribeTableCommand({ TableName: stack.tableName }));
    expect(table.Table?.TableStatus).toBe('ACTIVE');
    for (const q of Object.values(stack.queues)) {
      const attrs = await clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: q.url, AttributeNames: ['RedrivePolicy'] }),
      );
      expect(JSON.parse(attrs.Attributes?.RedrivePolicy ?? '{}').deadLetterTargetArn).toMatch(/-dlq/);
    }
    expect(stack.localJson.queues.inbound).toBe(stack.queues.inbound.url);
    const secret = await clients.secrets.send(new GetSecretValueCommand({ SecretId: X_APP_SECRET_ID }));
    const app = JSON.parse(secret.SecretString ?? '{}');
    expect(app.clientId).toMatch(/^local-/);
    expect(typeof app.clientSecret).toBe('string');
  });

  it('creates the media bucket on the S3 stand-in named in local.json, reachable with its credentials', async () => {
    const { endpoints, buckets, credentials, region } = stack.localJson;
    const s3 = createS3Client({ region, endpoint: endpoints.s3, credentials });
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: buckets.media,
          Key: 'outbound/hello.png',
          Body: Buffer.from('png'),
          ContentType: 'image/png',
        }),
      );
      const url = await getSignedUrl(
        s3,
        new GetObjectCommand({ Bucket: buckets.media, Key: 'outbound/hello.png' }),
        {
          expiresIn: 3600,
        },
      );
      const res = await fetch(url);

      expect(endpoints.s3).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(buckets.media).toBe('x-channel-media');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(await res.text()).toBe('png');
    } finally {
      s3.destroy();
    }
  });

  it('sets the handler environment before the handlers load', () => {
    const { localJson } = stack;
    expect(process.env).toMatchObject({
      AWS_REGION: localJson.region,
      AWS_ACCESS_KEY_ID: localJson.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: localJson.credentials.secretAccessKey,
      TABLE_NAME: stack.tableName,
      XC_SQS_ENDPOINT: localJson.endpoints.sqs,
      XC_DYNAMODB_ENDPOINT: localJson.endpoints.dynamodb,
      XC_SECRETS_ENDPOINT: localJson.endpoints.secretsManager,
      XC_S3_ENDPOINT: localJson.endpoints.s3,
      MEDIA_BUCKET: localJson.buckets.media,
      X_API_BASE_URL: localJson.x.baseUrl,
      X_APP_SECRET_ID,
      INBOUND_QUEUE_URL: localJson.queues.inbound,
      OUTBOUND_QUEUE_URL: localJson.queues.outbound,
      RESULTS_QUEUE_URL: localJson.queues.results,
      POLL_JOBS_QUEUE_URL: stack.queues.pollJobs.url,
      OAUTH_REDIRECT_URI: `${localJson.apiUrl}/oauth/callback`,
      CONSOLE_ORIGIN: localJson.apiUrl,
    });
  });

  it('guards the admin API with the adminToken and serves the console page publicly', async () => {
    const { apiUrl, adminToken } = stack.localJson;
    const refused = await fetch(`${apiUrl}/channels`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    const allowed = await fetch(`${apiUrl}/channels`, { headers: { authorization: `Bearer ${adminToken}` } });
    // the admin API itself answers: never an auth refusal
    expect(allowed.status).toBe(200);
    const page = await fetch(`${apiUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    // over real HTTP: nosniff on the API's answers and its page (#19 item 6); plain http, so no HSTS
    for (const res of [allowed, page]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('strict-transport-security')).toBeNull();
    }
  });

  it('serves the simulated X control API at x.controlUrl', async () => {
    expect(stack.simulatedX).toBe(true);
    const res = await fetch(`${stack.localJson.x.controlUrl}/_sim/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'acme_support', name: 'Acme Support' }),
    });
    expect(res.status).toBeLessThan(300);
    expect((await res.json()) as { id: string }).toMatchObject({ id: expect.stringMatching(/^\d+$/) });
  });

  it('runs each built function behind its trigger: schedule → dispatcher, poll-jobs → poller, outbound → sender', async () => {
    const loaded = (['dispatcher', 'poller', 'sender'] as const).filter(
      (f) => !stack.failed.some((x) => x.name === f),
    );
    const consumers = loaded.filter((f) => f !== 'dispatcher');
    expect(Object.keys(stack.status().consumers).sort()).toEqual([...consumers].sort());
    // Any body will do: the point is that the event source hands it to the function.
    if (consumers.includes('poller')) {
      await clients.sqs.send(
        new SendMessageCommand({ QueueUrl: stack.queues.pollJobs.url, MessageBody: '{}' }),
      );
    }
    if (consumers.includes('sender')) {
      await clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: stack.queues.outbound.url,
          MessageBody: '{}',
          MessageGroupId: 'wiring',
          MessageDeduplicationId: `wiring-${Date.now()}`,
        }),
      );
    }
    const end = Date.now() + 15_000;
    const done = () => {
      const status = stack.status();
      return (
        consumers.every((f) => (status.consumers[f]?.received ?? 0) >= 1) &&
        (!loaded.includes('dispatcher') || status.dispatcherTicks >= 1)
      );
    };
    while (!done() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(done()).toBe(true);
  });
  it('runs the api function on the revocation schedule: a pending revocation is revoked at the simulated X and its grant deleted', async () => {
    expect(stack.failed.map((x) => x.name)).not.toContain('api');
    // Prepare: what a delete during an X outage leaves, with an (unknown to X) grant in Secrets Manager
    const id = 'ch_localrevocationtesta';
    const prefix = TOKEN_SECRET_PREFIX;
    await clients.secrets.send(
      new CreateSecretCommand({
        Name: `${prefix}${id}`,
        SecretString: JSON.stringify({
          accessToken: 'local-revocation-access',
          refreshToken: 'local-revocation-refresh',
          expiresAt: new Date().toISOString(),
          scopes: [],
          updatedAt: new Date().toISOString(),
        }),
      }),
    );
    const at = new Date(Date.now() - 60_000).toISOString();
    await clients.doc.send(
      new PutCommand({
        TableName: stack.tableName,
        Item: {
          pk: 'REVOCATION',
          sk: id,
          type: 'revocation',
          id,
          kind: 'deleted',
          channelId: id,
          name: null,
          account: null,
          deletedAt: at,
          attempts: 1,
          lastAttemptAt: at,
          lastError: 'x_unavailable',
          nextAttemptAt: at,
        },
      }),
    );
    const revokesBefore = await revokesAt(stack);
    // Act: the schedule ticks (every 200 ms here)
    const end = Date.now() + 15_000;
    const gone = async () =>
      !(
        await clients.doc.send(
          new GetCommand({ TableName: stack.tableName, Key: { pk: 'REVOCATION', sk: id } }),
        )
      ).Item;
    while (!(await gone()) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    // Assess: X was asked, the record and the grant are gone
    expect(await gone()).toBe(true);
    expect(stack.status().revocationTicks).toBeGreaterThanOrEqual(1);
    expect(await revokesAt(stack)).toBeGreaterThanOrEqual(revokesBefore + 2);
    await expect(
      clients.secrets.send(new GetSecretValueCommand({ SecretId: `${prefix}${id}` })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

describe('startLocal with real X credentials', () => {
  it('starts no simulator, points the handlers at X and stores the given app credentials', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xc-realx-'));
    // functions: [] — handler modules were already imported by the stack above (once per process).
    const stack = await startLocal({
      memory: true,
      dataDir,
      functions: [],
      dynamodbEndpoint: process.env.XC_TEST_DYNAMODB_ENDPOINT,
      tableName: `xc-realx-${process.pid}-${Date.now()}`,
      realX: {
        clientId: 'real-client-id',
        clientSecret: 'real-client-secret-value',
        baseUrl: 'https://api.x.com',
        authorizeUrl: 'https://x.com/i/oauth2/authorize',
      },
    });
    const clients = createAwsClients({
      region: stack.localJson.region,
      endpoints: stack.localJson.endpoints,
      credentials: stack.localJson.credentials,
    });
    try {
      expect(stack.localJson.x).toEqual({ mode: 'real', baseUrl: 'https://api.x.com', controlUrl: null });
      expect(firstCredentials).toBeDefined();
      expect(stack.localJson.credentials.accessKeyId).not.toBe(firstCredentials?.accessKeyId);
      expect(stack.localJson.credentials.secretAccessKey).not.toBe(firstCredentials?.secretAccessKey);
      expect(stack.simulatedX).toBe(false);
      expect(process.env.X_AUTHORIZE_URL).toBe('https://x.com/i/oauth2/authorize');
      const secret = await clients.secrets.send(new GetSecretValueCommand({ SecretId: X_APP_SECRET_ID }));
      expect(JSON.parse(secret.SecretString ?? '{}')).toEqual({
        clientId: 'real-client-id',
        clientSecret: 'real-client-secret-value',
      });
    } finally {
      clients.sqs.destroy();
      clients.dynamodb.destroy();
      clients.secrets.destroy();
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
