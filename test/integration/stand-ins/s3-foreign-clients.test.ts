/**
 * The S3 stand-in through clients this project did not write: Debian's AWS CLI 2.9 (`aws s3api`,
 * `aws s3 presign`) and boto3 1.26 (path-style addressing, as for any S3 endpoint on an IP address).
 * `.ci/run` installs them (`awscli`, `python3-boto3`); without them this file fails and says what to install.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startS3, type S3StandIn } from '../../../stand-ins/s3';
import { AWS_CLI, foreignClients, PYTHON } from '../../helpers/foreign-clients';

jest.setTimeout(180_000);

let stand: S3StandIn;
const foreign = foreignClients('xc-foreign-s3-', () => ({ S3_ENDPOINT: stand.endpoint }));
const { credentials, run } = foreign;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function s3api(...args: string[]): Promise<Record<string, unknown>> {
  const out = await run(AWS_CLI, ['--endpoint-url', stand.endpoint, '--output', 'json', 's3api', ...args]);
  if (out.code !== 0) throw new Error(`aws s3api ${args[0]} failed (${out.code}): ${out.stderr}`);
  return out.stdout.trim() ? (JSON.parse(out.stdout) as Record<string, unknown>) : {};
}

beforeAll(async () => {
  foreign.start();
  stand = await startS3({ port: 0, credentials });
});
afterAll(async () => {
  await stand?.stop();
  foreign.stop();
});

describe('S3 stand-in through the AWS CLI 2.9', () => {
  it('creates a bucket, puts, heads, gets, lists and deletes objects, and names S3 errors', async () => {
    const bucket = `cli-${randomBytes(3).toString('hex')}`;
    const bytes = randomBytes(30_000);
    const file = path.join(foreign.home, 'in.png');
    const out = path.join(foreign.home, 'out.png');
    writeFileSync(file, bytes);

    await s3api('create-bucket', '--bucket', bucket);
    const put = await s3api(
      'put-object',
      '--bucket',
      bucket,
      '--key',
      'dir/in a.png',
      '--body',
      file,
      '--content-type',
      'image/png',
    );
    // independent calls in parallel: each CLI start takes seconds on a loaded machine
    const [head, got, listed, missing, noBucket] = await Promise.all([
      s3api('head-object', '--bucket', bucket, '--key', 'dir/in a.png'),
      s3api('get-object', '--bucket', bucket, '--key', 'dir/in a.png', out),
      s3api('list-objects-v2', '--bucket', bucket, '--prefix', 'dir/') as Promise<{
        Contents?: Array<{ Key: string; Size: number }>;
      }>,
      run(AWS_CLI, [
        '--endpoint-url',
        stand.endpoint,
        's3api',
        'get-object',
        '--bucket',
        bucket,
        '--key',
        'nope',
        path.join(foreign.home, 'nope'),
      ]),
      run(AWS_CLI, [
        '--endpoint-url',
        stand.endpoint,
        's3api',
        'list-objects-v2',
        '--bucket',
        'no-such-bucket-here',
      ]),
    ]);
    await s3api('delete-object', '--bucket', bucket, '--key', 'dir/in a.png');
    const gone = await run(AWS_CLI, [
      '--endpoint-url',
      stand.endpoint,
      's3api',
      'head-object',
      '--bucket',
      bucket,
      '--key',
      'dir/in a.png',
    ]);

    const md5 = createHash('md5').update(bytes).digest('hex');
    expect(put.ETag).toBe(`"${md5}"`);
    expect(head).toMatchObject({ ContentLength: 30_000, ContentType: 'image/png', ETag: `"${md5}"` });
    expect(got).toMatchObject({ ContentLength: 30_000, ContentType: 'image/png' });
    expect(sha256(readFileSync(out))).toBe(sha256(bytes));
    expect(listed.Contents?.map((c) => [c.Key, c.Size])).toEqual([['dir/in a.png', 30_000]]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/NoSuchKey/);
    expect(noBucket.stderr).toMatch(/NoSuchBucket/);
    expect(gone.stderr).toMatch(/404|Not Found/);
  });

  it('presigns a GET (aws s3 presign) that a plain fetch opens, and that expires', async () => {
    const bucket = `presign-${randomBytes(3).toString('hex')}`;
    const bytes = randomBytes(4_000);
    const file = path.join(foreign.home, 'p.bin');
    writeFileSync(file, bytes);
    await s3api('create-bucket', '--bucket', bucket);
    await s3api('put-object', '--bucket', bucket, '--key', 'k.bin', '--body', file);

    const presign = (seconds: string) =>
      run(AWS_CLI, [
        '--endpoint-url',
        stand.endpoint,
        's3',
        'presign',
        `s3://${bucket}/k.bin`,
        '--expires-in',
        seconds,
      ]);
    const [signed, short] = await Promise.all([presign('3600'), presign('1')]);
    const res = await fetch(signed.stdout.trim());
    await new Promise((r) => setTimeout(r, 2_100));
    const expired = await fetch(short.stdout.trim());

    expect(signed.code).toBe(0);
    expect(signed.stdout).toMatch(/X-Amz-Signature=/);
    expect(res.status).toBe(200);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(bytes));
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('<Message>Request has expired</Message>');
  });
});

describe('S3 stand-in through boto3 1.26', () => {
  it('puts and gets an object, maps a missing key to NoSuchKey, presigns a SigV4 GET a plain fetch opens; its default SigV2 URL is refused', async () => {
    const bucket = `boto-${randomBytes(3).toString('hex')}`;
    const script = `
import boto3, hashlib, json, os, sys
from botocore.config import Config
s3 = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT'], config=Config(s3={'addressing_style': 'path'}))
s3.create_bucket(Bucket='${bucket}')
data = bytes(range(256)) * 40
put = s3.put_object(Bucket='${bucket}', Key='media/x.gif', Body=data, ContentType='image/gif')
got = s3.get_object(Bucket='${bucket}', Key='media/x.gif')
body = got['Body'].read()
try:
    s3.get_object(Bucket='${bucket}', Key='missing')
    missing = None
except s3.exceptions.NoSuchKey as e:
    missing = [e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode']]
url = s3.generate_presigned_url('get_object', Params={'Bucket': '${bucket}', 'Key': 'media/x.gif'}, ExpiresIn=600)
v4 = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT'], config=Config(signature_version='s3v4', s3={'addressing_style': 'path'}))
url4 = v4.generate_presigned_url('get_object', Params={'Bucket': '${bucket}', 'Key': 'media/x.gif'}, ExpiresIn=600)
print(json.dumps({'etag': put['ETag'], 'type': got['ContentType'], 'length': got['ContentLength'],
  'sha256': hashlib.sha256(body).hexdigest(), 'expected': hashlib.sha256(data).hexdigest(),
  'missing': missing, 'url': url, 'url4': url4}))
`;
    const out = await run(PYTHON, ['-c', script]);
    if (out.code !== 0) throw new Error(`boto3 failed (${out.code}): ${out.stderr}`);
    const result = JSON.parse(out.stdout) as {
      etag: string;
      type: string;
      length: number;
      sha256: string;
      expected: string;
      missing: [string, number];
      url: string;
      url4: string;
    };
    const res = await fetch(result.url4);
    const fetched = Buffer.from(await res.arrayBuffer());
    const v2 = await fetch(result.url);

    expect(result.type).toBe('image/gif');
    expect(result.length).toBe(10_240);
    expect(result.sha256).toBe(result.expected);
    expect(result.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(result.missing).toEqual(['NoSuchKey', 404]);
    expect(result.url4).toMatch(/X-Amz-Algorithm=AWS4-HMAC-SHA256/);
    expect(res.status).toBe(200);
    expect(sha256(fetched)).toBe(result.expected);
    // boto3 1.26 presigns with signature version 2 unless told otherwise; S3 refuses it for new buckets.
    expect(result.url).toMatch(/AWSAccessKeyId=/);
    expect(v2.status).toBe(400);
    expect(await v2.text()).toContain('<Code>InvalidRequest</Code>');
  });
});
