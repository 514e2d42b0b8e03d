/**
 * The S3 stand-in through the real `@aws-sdk/client-s3` and `@aws-sdk/s3-request-presigner`, and
 * through plain HTTP where a consumer uses none (a presigned URL opened by `fetch`): objects with
 * their content types, sizes, ETags and checksums; S3's error codes and XML; presigned GET URLs whose
 * signature and expiry are checked; the request guard; persistence in a data directory.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createS3Client } from '../../../adapters/aws/s3';
import { ensureBucket, startS3, type S3StandIn } from '../../../stand-ins/s3';

const credentials = {
  accessKeyId: `AKIDLOCAL${randomBytes(4).toString('hex').toUpperCase()}`,
  secretAccessKey: randomBytes(20).toString('hex'),
};
const BUCKET = 'media-test';
let clockOffsetMs = 0;
let stand: S3StandIn;
let s3: S3Client;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

/** A raw request with the headers given (no signature unless the caller adds one). */
function rawRequest(
  url: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          headers: res.headers,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  stand = await startS3({ port: 0, credentials, now: () => Date.now() + clockOffsetMs });
  s3 = createS3Client({ region: 'us-east-1', endpoint: stand.endpoint, credentials });
  await ensureBucket(s3, BUCKET);
  await ensureBucket(s3, BUCKET); // idempotent
});
afterAll(async () => {
  s3?.destroy();
  await stand?.stop();
});
afterEach(() => {
  clockOffsetMs = 0;
});

describe('S3 stand-in through @aws-sdk/client-s3', () => {
  it('listens on 127.0.0.1 and answers HeadBucket with the region', async () => {
    const head = await s3.send(new HeadBucketCommand({ Bucket: BUCKET }));

    expect(stand.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(head.BucketRegion).toBe('us-east-1');
  });

  it('puts, heads, gets and deletes an object with its content type, size, ETag, metadata and checksum', async () => {
    const bytes = randomBytes(70_000);
    const key = 'channels/ch 1/inbound/photo é+=.png';
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: key,
        Body: bytes,
        ContentType: 'image/png',
        Metadata: { source: 'x-dm' },
        CacheControl: 'max-age=60',
      }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: 'ENABLED' }));
    const body = Buffer.from(await got.Body!.transformToByteArray());

    expect(put.ETag).toBe(`"${md5(bytes)}"`);
    expect(put.ChecksumCRC32).toEqual(expect.any(String));
    expect(head).toMatchObject({
      ContentType: 'image/png',
      ContentLength: 70_000,
      ETag: `"${md5(bytes)}"`,
      Metadata: { source: 'x-dm' },
      CacheControl: 'max-age=60',
    });
    expect(head.LastModified).toBeInstanceOf(Date);
    expect(Math.abs(head.LastModified!.getTime() - Date.now())).toBeLessThan(60_000);
    expect(got.ContentType).toBe('image/png');
    expect(got.ChecksumCRC32).toBe(put.ChecksumCRC32);
    expect(sha256(body)).toBe(sha256(bytes));

    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    await expect(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).rejects.toMatchObject({
      name: 'NotFound',
      $metadata: { httpStatusCode: 404 },
    });
    // deleting a missing key succeeds, as in S3
    await expect(s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }))).resolves.toBeDefined();
  });

  it('stores a streamed (aws-chunked, checksum trailer) upload, keeps the type the SDK sends and refuses a wrong checksum', async () => {
    const bytes = randomBytes(200_000);
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'streamed',
        Body: Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]),
        ContentLength: bytes.length,
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'untyped', Body: Buffer.from('x') }));
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'streamed' }));
    const untyped = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'untyped' }));

    expect(sha256(await got.Body!.transformToByteArray())).toBe(sha256(bytes));
    expect(got.ContentLength).toBe(200_000);
    expect(got.ContentEncoding).toBeUndefined();
    expect(untyped.ContentType).toBe('application/octet-stream');
    await expect(
      s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: 'bad',
          Body: Buffer.from('abc'),
          ChecksumCRC32: 'AAAAAA==',
        }),
      ),
    ).rejects.toMatchObject({ name: 'BadDigest', $metadata: { httpStatusCode: 400 } });
    await expect(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'bad' }))).rejects.toMatchObject({
      name: 'NotFound',
    });
  });

  it('answers NoSuchKey and NoSuchBucket as S3 does (codes, 404, XML with the key or bucket)', async () => {
    await expect(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'missing/key' }))).rejects.toMatchObject(
      {
        name: 'NoSuchKey',
        Code: 'NoSuchKey',
        Key: 'missing/key',
        $metadata: { httpStatusCode: 404 },
      },
    );
    await expect(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' }))).rejects.toMatchObject(
      {
        name: 'NoSuchBucket',
        BucketName: 'no-such-bucket',
        $metadata: { httpStatusCode: 404 },
      },
    );
    await expect(s3.send(new HeadBucketCommand({ Bucket: 'no-such-bucket' }))).rejects.toMatchObject({
      name: 'NotFound',
      $metadata: { httpStatusCode: 404 },
    });
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'missing' }), {
      expiresIn: 60,
    });
    const res = await fetch(url);
    const xml = await res.text();

    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/xml');
    expect(xml).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>NoSuchKey<\/Code><Message>The specified key does not exist.<\/Message><Key>missing<\/Key>/,
    );
    expect(xml).toMatch(/<RequestId>[0-9A-F]{16}<\/RequestId>/);
  });

  it('serves byte ranges and conditional GETs', async () => {
    const bytes = Buffer.from('0123456789');
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'ranged', Body: bytes }));
    const part = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ranged', Range: 'bytes=2-5' }));
    const tail = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ranged', Range: 'bytes=-3' }));

    expect(await part.Body!.transformToString()).toBe('2345');
    expect(part.ContentRange).toBe('bytes 2-5/10');
    expect(await tail.Body!.transformToString()).toBe('789');
    await expect(
      s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ranged', Range: 'bytes=20-30' })),
    ).rejects.toMatchObject({
      name: 'InvalidRange',
      $metadata: { httpStatusCode: 416 },
    });
    await expect(
      s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ranged', IfMatch: '"0000"' })),
    ).rejects.toMatchObject({
      name: 'PreconditionFailed',
      $metadata: { httpStatusCode: 412 },
    });
    await expect(
      s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ranged', IfNoneMatch: ETag })),
    ).rejects.toMatchObject({
      $metadata: { httpStatusCode: 304 },
    });
  });

  it('lists keys with a prefix, a delimiter and continuation tokens', async () => {
    for (const key of ['list/a/1', 'list/a/2', 'list/b', 'list/c', 'other']) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: Buffer.from(key) }));
    }
    const grouped = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/', Delimiter: '/' }),
    );
    const first = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/', MaxKeys: 2 }));
    const rest = await s3.send(
      new ListObjectsV2Command({
        Bucket: BUCKET,
        Prefix: 'list/',
        ContinuationToken: first.NextContinuationToken,
      }),
    );

    expect(grouped.CommonPrefixes).toEqual([{ Prefix: 'list/a/' }]);
    expect(grouped.Contents?.map((c) => c.Key)).toEqual(['list/b', 'list/c']);
    expect(grouped.KeyCount).toBe(3);
    expect(first.IsTruncated).toBe(true);
    expect(first.Contents?.map((c) => [c.Key, c.Size])).toEqual([
      ['list/a/1', 8],
      ['list/a/2', 8],
    ]);
    expect(rest.IsTruncated).toBe(false);
    expect(rest.Contents?.map((c) => c.Key)).toEqual(['list/b', 'list/c']);
  });
});

describe('presigned GET URLs', () => {
  it('open with a plain fetch (no credentials): same bytes, content type and length', async () => {
    const bytes = randomBytes(5_000);
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'dm/photo.jpg', Body: bytes, ContentType: 'image/jpeg' }),
    );
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'dm/photo.jpg' }), {
      expiresIn: 3600,
    });
    const before = stand.requests.presigned;
    const res = await fetch(url);
    const got = Buffer.from(await res.arrayBuffer());

    expect(url).toMatch(/X-Amz-Expires=3600/);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('content-length')).toBe('5000');
    expect(sha256(got)).toBe(sha256(bytes));
    expect(stand.requests.presigned).toBe(before + 1);
  });

  it('are refused once expired, with S3\'s AccessDenied "Request has expired"', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'expiring', Body: Buffer.from('x') }));
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'expiring' }), {
      expiresIn: 3600,
    });
    clockOffsetMs = 3590 * 1000;
    const justInTime = await fetch(url);
    clockOffsetMs = 3601 * 1000;
    const late = await fetch(url);
    const xml = await late.text();

    expect(justInTime.status).toBe(200);
    expect(late.status).toBe(403);
    expect(xml).toContain('<Code>AccessDenied</Code><Message>Request has expired</Message>');
  });

  it('are refused when the signature, key, path or expiry was changed, or the expiry exceeds 7 days', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'guarded', Body: Buffer.from('x') }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'guardee', Body: Buffer.from('y') }));
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'guarded' }), {
      expiresIn: 600,
    });
    const other = createS3Client({
      region: 'us-east-1',
      endpoint: stand.endpoint,
      credentials: { accessKeyId: 'AKIDSOMEONEELSE00000', secretAccessKey: 'not-the-secret' },
    });
    const foreign = await getSignedUrl(other, new GetObjectCommand({ Bucket: BUCKET, Key: 'guarded' }), {
      expiresIn: 600,
    });
    other.destroy();
    const codeOf = async (u: string) => {
      const res = await fetch(u);
      return [res.status, /<Code>([^<]+)<\/Code>/.exec(await res.text())?.[1]];
    };

    expect(await codeOf(url.replace(/X-Amz-Signature=[0-9a-f]{4}/, 'X-Amz-Signature=0000'))).toEqual([
      403,
      'SignatureDoesNotMatch',
    ]);
    expect(await codeOf(url.replace('/guarded?', '/guardee?'))).toEqual([403, 'SignatureDoesNotMatch']);
    expect(await codeOf(url.replace('X-Amz-Expires=600', 'X-Amz-Expires=6000'))).toEqual([
      403,
      'SignatureDoesNotMatch',
    ]);
    expect(await codeOf(url.replace('X-Amz-Expires=600', 'X-Amz-Expires=604801'))).toEqual([
      400,
      'AuthorizationQueryParametersError',
    ]);
    expect(await codeOf(url.replace(/&X-Amz-Signature=[0-9a-f]+/, ''))).toEqual([
      400,
      'AuthorizationQueryParametersError',
    ]);
    expect(await codeOf(foreign)).toEqual([403, 'InvalidAccessKeyId']);
    expect(
      await codeOf(
        `${stand.endpoint}/${BUCKET}/guarded?AWSAccessKeyId=${credentials.accessKeyId}&Expires=9999999999&Signature=abc`,
      ),
    ).toEqual([400, 'InvalidRequest']);
  });
});

describe('request guard', () => {
  it('refuses unsigned requests, a foreign Host (DNS rebinding) and a signature by another key', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'secret-ish', Body: Buffer.from('x') }));
    const unsigned = await rawRequest(`${stand.endpoint}/${BUCKET}/secret-ish`);
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'secret-ish' }), {
      expiresIn: 600,
    });
    const rebound = await rawRequest(url, { host: 'attacker.example:80' });
    const other = createS3Client({
      region: 'us-east-1',
      endpoint: stand.endpoint,
      credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: 'wrong-secret' },
    });
    const wrongSecret = other.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'secret-ish' }));

    expect(unsigned.status).toBe(403);
    expect(unsigned.body).toContain('<Code>AccessDenied</Code>');
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain('<Code>AccessDenied</Code>');
    expect(rebound.body).toContain('not loopback');
    await expect(wrongSecret).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
      $metadata: { httpStatusCode: 403 },
    });
    other.destroy();
    expect(unsigned.body).not.toContain(credentials.secretAccessKey);
  });
});

describe('persistence', () => {
  it('keeps buckets and objects in its data directory across a restart', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'xc-s3-'));
    try {
      const bytes = randomBytes(10_000);
      const first = await startS3({ port: 0, credentials, dataDir: dir });
      const c1 = createS3Client({ region: 'us-east-1', endpoint: first.endpoint, credentials });
      await ensureBucket(c1, 'kept');
      await s3Put(c1, 'kept', 'a/b.gif', bytes, 'image/gif');
      await s3Put(c1, 'kept', 'gone', Buffer.from('x'), 'text/plain');
      await c1.send(new DeleteObjectCommand({ Bucket: 'kept', Key: 'gone' }));
      c1.destroy();
      await first.stop();

      const second = await startS3({ port: 0, credentials, dataDir: dir });
      const c2 = createS3Client({ region: 'us-east-1', endpoint: second.endpoint, credentials });
      const got = await c2.send(new GetObjectCommand({ Bucket: 'kept', Key: 'a/b.gif' }));
      const listed = await c2.send(new ListObjectsV2Command({ Bucket: 'kept' }));
      const body = await got.Body!.transformToByteArray();
      c2.destroy();
      await second.stop();

      expect(got.ContentType).toBe('image/gif');
      expect(got.ETag).toBe(`"${md5(bytes)}"`);
      expect(sha256(body)).toBe(sha256(bytes));
      expect(listed.Contents?.map((c) => c.Key)).toEqual(['a/b.gif']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function s3Put(
  client: S3Client,
  bucket: string,
  key: string,
  body: Buffer,
  type: string,
): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: type }));
}
