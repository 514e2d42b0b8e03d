/**
 * The S3 stand-in: our own S3 REST server (stand-ins/s3/), bound to 127.0.0.1, reached through the
 * real `@aws-sdk/client-s3` (path-style: `forcePathStyle: true`), the AWS CLI and boto3. It answers
 * what x-channel and a case system use of the media bucket — objects in, objects out, presigned GET
 * URLs — as S3 does wherever a consumer can tell (stand-ins/README.md says why our own rather than an
 * emulator, and what still differs).
 *
 * ```
 * stand-ins/s3/server.ts   HTTP, request guard (SigV4 header or presigned query), operations
 *   body.ts                aws-chunked decoding, Content-MD5 / x-amz-checksum-* checks
 *   store.ts               buckets and objects, in memory or in a data directory
 *   errors.ts              S3's error codes and XML
 * ```
 */
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { LOCAL_CREDENTIALS } from '../adapters/aws/clients';
import { startS3Server } from './s3/server';

/** Options for {@link startS3}. */
export interface S3Options {
  /** TCP port on 127.0.0.1; 0 or omitted picks a free one. */
  port?: number;
  /** Directory the buckets and objects are kept in; omitted keeps everything in memory. */
  dataDir?: string;
  /** Region buckets are created in (`x-amz-bucket-region`). @default 'us-east-1' */
  region?: string;
  /**
   * The only key pair accepted: every request must carry a SigV4 signature by it (header, or a
   * presigned URL's query) and a loopback `Host` (stand-ins/request-guard.ts).
   * @default LOCAL_CREDENTIALS
   */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /**
   * The stand-in's clock (epoch ms) for signature skew, presigned URL expiry and `Last-Modified`;
   * a test that moves time forward passes its own. @default Date.now
   */
  now?: () => number;
  /** Largest object accepted (S3: 5 GB per PUT). @default 600 MiB (X's video limit is 512 MB) */
  maxObjectBytes?: number;
}

/** A running S3 stand-in. */
export interface S3StandIn {
  /** `http://127.0.0.1:<port>` — pass it as the S3 client's `endpoint` with `forcePathStyle: true`. */
  endpoint: string;
  /** Requests answered since start: signed by header, by a presigned URL, refused by the guard. */
  requests: { signed: number; presigned: number; refused: number };
  /** Closes the server (objects are on disk as soon as they are written). Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts the S3 stand-in on 127.0.0.1.
 *
 * @example
 * const s3 = await startS3({ port: 0, dataDir: '.x-channel/s3', credentials });
 * const client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials });
 * await ensureBucket(client, 'x-channel-media');
 * await s3.stop();
 */
export async function startS3(options: S3Options = {}): Promise<S3StandIn> {
  const server = await startS3Server({
    port: options.port ?? 0,
    region: options.region ?? 'us-east-1',
    credentials: options.credentials ?? LOCAL_CREDENTIALS,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    now: options.now ?? Date.now,
    maxObjectBytes: options.maxObjectBytes ?? 600 * 1024 * 1024,
  });
  return { endpoint: server.endpoint, requests: server.requests, stop: () => server.stop() };
}

/** Creates `bucket` unless it exists (what the stack's bucket is in AWS). */
export async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (e) {
    if ((e as Error).name !== 'BucketAlreadyOwnedByYou') throw e;
  }
}
