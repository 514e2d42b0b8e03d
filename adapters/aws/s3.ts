/**
 * The S3 client of the media bucket, kept out of adapters/aws/clients.ts so that only the functions
 * that touch media (the poller stores inbound DM media, the sender reads outbound media) bundle
 * `@aws-sdk/client-s3`. Locally it points at the S3 stand-in (`XC_S3_ENDPOINT`, path-style, signed
 * with the stand-ins' key pair); in Lambda it uses the default provider chain.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { LOCAL_CREDENTIALS } from './clients';

/** The media bucket's name in local runs (`local.json` `buckets.media`); in AWS the stack names it. */
export const LOCAL_MEDIA_BUCKET = 'x-channel-media';

/**
 * Key prefixes of the media bucket, which the stack's grants follow: the poller writes (and presigns)
 * inbound DM media under `inbound/<channelId>/`; the case system puts outbound media under `outbound/`
 * (`grantPutOutboundMedia`), and the sender reads only there.
 */
export const MEDIA_PREFIXES = { inbound: 'inbound/', outbound: 'outbound/' } as const;

export interface S3ClientOptions {
  region: string;
  /** The S3 stand-in locally; omitted in AWS. */
  endpoint?: string;
  /** Local runs: the stand-ins' key pair; else `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, else `LOCAL_CREDENTIALS`. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * @example
 * const s3 = createS3Client({ region: 'us-east-1', endpoint: local.endpoints.s3, credentials: local.credentials });
 * await s3.send(new PutObjectCommand({ Bucket: local.buckets.media, Key: 'k', Body: bytes, ContentType: 'image/png' }));
 */
export function createS3Client(options: S3ClientOptions): S3Client {
  const fromEnv =
    process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY
      ? { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY }
      : undefined;
  const given = options.credentials ?? (options.endpoint ? (fromEnv ?? LOCAL_CREDENTIALS) : undefined);
  // A copy: the SDK marks the object it is given, and callers pass local.json's.
  const credentials = given && { accessKeyId: given.accessKeyId, secretAccessKey: given.secretAccessKey };
  return new S3Client({
    region: options.region,
    maxAttempts: 3,
    ...(credentials ? { credentials } : {}),
    // The stand-in answers path-style only (`/<bucket>/<key>` on 127.0.0.1).
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
  });
}

/** Builds the media client from a validated config (lambdas/shared/config.ts). */
export function s3ClientFromConfig(config: { AWS_REGION: string; XC_S3_ENDPOINT?: string }): S3Client {
  return createS3Client({
    region: config.AWS_REGION,
    ...(config.XC_S3_ENDPOINT ? { endpoint: config.XC_S3_ENDPOINT } : {}),
  });
}
