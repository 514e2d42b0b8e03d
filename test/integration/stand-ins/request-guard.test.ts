/**
 * The stand-ins' request guard (stand-ins/request-guard.ts) behind a real HTTP server, called by
 * real SigV4 signers: the AWS SDK v3 clients and `@smithy/signature-v4` for hand-built requests.
 */
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkAwsRequest, type RequestGuardOptions } from '../../../stand-ins/request-guard';

const credentials = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-secret-for-tests' };
let guard: RequestGuardOptions = { credentials };
let server: http.Server;
let port: number;

/** Answers `{}` (JSON) when the guard lets a request through, else the refusal in AWS's JSON shape. */
beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void checkAwsRequest(req, Buffer.concat(chunks), guard).then((refused) => {
        res.writeHead(refused?.status ?? 200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(refused ? { __type: refused.code, message: refused.message } : {}));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
afterEach(() => {
  guard = { credentials };
});

const secretsClient = (creds = credentials, host = '127.0.0.1') =>
  new SecretsManagerClient({
    endpoint: `http://${host}:${port}`,
    region: 'eu-west-1',
    credentials: creds,
    maxAttempts: 1,
  });

/** Sends a request signed by the SDK's signer for `hostHeader`, over loopback. */
async function sendSigned(opts: {
  method?: string;
  path: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: string;
  service?: string;
  hostHeader?: string;
  signWith?: typeof credentials;
  tamper?: (headers: Record<string, string>) => void;
}): Promise<{ status: number; body: { __type?: string; message?: string } }> {
  const service = opts.service ?? 'secretsmanager';
  const hostHeader = opts.hostHeader ?? `127.0.0.1:${port}`;
  const signer = new SignatureV4({
    credentials: opts.signWith ?? credentials,
    region: 'us-east-1',
    service,
    sha256: Sha256,
    uriEscapePath: service !== 's3',
  });
  const signed = await signer.sign({
    method: opts.method ?? 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    path: opts.path,
    query: opts.query ?? {},
    headers: { host: hostHeader, ...opts.headers },
    body: opts.body ?? '',
  });
  const headers = signed.headers as Record<string, string>;
  opts.tamper?.(headers);
  const qs = Object.entries(opts.query ?? {})
    .flatMap(([k, v]) => ([] as string[]).concat(v).map((x) => `${encodeRfc3986(k)}=${encodeRfc3986(x)}`))
    .join('&');
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: signed.method, path: `${opts.path}${qs ? `?${qs}` : ''}`, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }),
        );
      },
    );
    req.on('error', reject);
    req.end(opts.body ?? '');
  });
}

const encodeRfc3986 = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

describe('request guard with a real SDK client', () => {
  it('lets a request signed with the configured key through', async () => {
    const client = secretsClient();
    await expect(client.send(new ListSecretsCommand({}))).resolves.toBeDefined();
    client.destroy();
  });

  it('lets the SQS JSON client through too (another service in the credential scope)', async () => {
    const sqs = new SQSClient({
      endpoint: `http://localhost:${port}`,
      region: 'us-east-1',
      credentials,
      maxAttempts: 1,
    });
    await expect(sqs.send(new ListQueuesCommand({}))).resolves.toBeDefined();
    sqs.destroy();
  });

  it('refuses a wrong secret key with InvalidSignatureException', async () => {
    const client = secretsClient({ ...credentials, secretAccessKey: 'not-the-secret' });
    await expect(client.send(new ListSecretsCommand({}))).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      $metadata: { httpStatusCode: 400 },
    });
    client.destroy();
  });

  it('refuses an unknown access key id with UnrecognizedClientException', async () => {
    const client = secretsClient({ ...credentials, accessKeyId: 'AKIDSOMEONEELSE' });
    await expect(client.send(new ListSecretsCommand({}))).rejects.toMatchObject({
      name: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    });
    client.destroy();
  });

  it('refuses a signature more than 15 minutes off the stand-in clock, and accepts 14', async () => {
    const client = secretsClient();
    guard = { credentials, now: () => Date.now() + 16 * 60_000 };
    await expect(client.send(new ListSecretsCommand({}))).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      message: expect.stringMatching(/^Signature expired: \d{8}T\d{6}Z is now earlier than/),
    });
    guard = { credentials, now: () => Date.now() - 16 * 60_000 };
    await expect(client.send(new ListSecretsCommand({}))).rejects.toMatchObject({
      message: expect.stringMatching(/^Signature not yet current/),
    });
    guard = { credentials, now: () => Date.now() + 14 * 60_000 };
    await expect(client.send(new ListSecretsCommand({}))).resolves.toBeDefined();
    client.destroy();
  });

  it('never puts the secret key into a refusal', async () => {
    const client = secretsClient({ ...credentials, secretAccessKey: 'not-the-secret' });
    const err = (await client.send(new ListSecretsCommand({})).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('InvalidSignatureException');
    expect(JSON.stringify({ m: err.message, ...err })).not.toContain(credentials.secretAccessKey);
    client.destroy();
  });
});

describe('request guard with hand-built requests', () => {
  it('refuses a request without Authorization with MissingAuthenticationTokenException', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers: { 'x-amz-target': 'secretsmanager.ListSecrets' },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      __type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    });
  });

  it('refuses a foreign Host even when the signature over it is valid (DNS rebinding)', async () => {
    for (const hostHeader of ['evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`]) {
      const res = await sendSigned({ path: '/', hostHeader, body: '{}' });
      expect(res).toMatchObject({ status: 403, body: { __type: 'AccessDeniedException' } });
    }
  });

  it('accepts every loopback spelling of Host', async () => {
    for (const hostHeader of [`localhost:${port}`, `[::1]:${port}`, '127.0.0.1', 'LOCALHOST']) {
      expect(await sendSigned({ path: '/', hostHeader, body: '{}' })).toEqual({ status: 200, body: {} });
    }
  });

  it('covers the body: a changed body after signing fails', async () => {
    const res = await sendSigned({
      path: '/',
      body: '{"a":1}',
      headers: { 'content-type': 'application/x-amz-json-1.1' },
    });
    expect(res.status).toBe(200);
    const bad = await new Promise<number>((resolve, reject) => {
      void (async () => {
        const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 'sqs', sha256: Sha256 });
        const signed = await signer.sign({
          method: 'POST',
          protocol: 'http:',
          hostname: '127.0.0.1',
          path: '/',
          headers: { host: `127.0.0.1:${port}` },
          body: '{"a":1}',
        });
        const req = http.request(
          { host: '127.0.0.1', port, method: 'POST', path: '/', headers: signed.headers },
          (r) => {
            r.resume();
            resolve(r.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end('{"a":2}');
      })();
    });
    expect(bad).toBe(400);
  });

  it('covers path, query and signed headers (query dialect codes)', async () => {
    guard = { credentials, dialect: 'query' };
    const query = { Action: 'ListQueues', QueueNamePrefix: 'a b/~ü*', Attr: ['2', '1'] };
    const ok = await sendSigned({ method: 'GET', path: '/000000000000/q', query, service: 'sqs' });
    expect(ok).toEqual({ status: 200, body: {} });

    const changedHeader = await sendSigned({
      method: 'GET',
      path: '/',
      query,
      service: 'sqs',
      headers: { 'x-amz-target': 'a' },
      tamper: (h) => {
        h['x-amz-target'] = 'b';
      },
    });
    expect(changedHeader).toMatchObject({ status: 403, body: { __type: 'SignatureDoesNotMatch' } });

    const wrongKey = await sendSigned({
      path: '/',
      service: 'sqs',
      signWith: { ...credentials, accessKeyId: 'AKIDOTHER' },
    });
    expect(wrongKey).toMatchObject({ status: 403, body: { __type: 'InvalidClientTokenId' } });

    const malformed = await sendSigned({
      path: '/',
      tamper: (h) => {
        h.authorization = 'AWS4-HMAC-SHA256 Credential=x';
      },
    });
    expect(malformed).toMatchObject({ status: 400, body: { __type: 'IncompleteSignature' } });
  });

  it('checks S3 requests without re-encoding the path, and their x-amz-content-sha256 (s3 dialect)', async () => {
    guard = { credentials, dialect: 's3' };
    const body = 'media bytes';
    const sha = createHash('sha256').update(body).digest('hex');
    const put = (bodyHash: string, path = '/media/a%20b/c%2Bd.jpg') =>
      sendSigned({ method: 'PUT', path, service: 's3', body, headers: { 'x-amz-content-sha256': bodyHash } });
    expect(await put(sha)).toEqual({ status: 200, body: {} });
    expect(await put('UNSIGNED-PAYLOAD')).toEqual({ status: 200, body: {} });
    expect(await put('0'.repeat(64))).toMatchObject({
      status: 400,
      body: { __type: 'XAmzContentSHA256Mismatch' },
    });
    expect(await sendSigned({ path: '/', service: 's3', hostHeader: 'evil.example' })).toMatchObject({
      status: 403,
      body: { __type: 'AccessDenied' },
    });
  });
});
