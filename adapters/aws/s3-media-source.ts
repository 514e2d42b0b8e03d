/**
 * Outbound media in the media bucket (`s3://<bucket>/<key>`): a HEAD for type and size, then ranged GETs,
 * one per upload chunk, so a video never sits whole in the sender's memory. The sender's grant reads
 * only the outbound prefix, and S3 answers a missing key there with 403 (no ListBucket): both are
 * "no such object" (`media_not_found`); anything else is a retryable failure of the bucket.
 */
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { retryable } from '../../core/errors';
import type { MediaHead, MediaRef } from '../../core/outbound/media';

interface S3Error {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

const status = (e: unknown) => (e as S3Error)?.$metadata?.httpStatusCode;
const absent = (e: unknown) =>
  [404, 403].includes(status(e) ?? 0) ||
  ['NotFound', 'NoSuchKey', 'AccessDenied', 'Forbidden'].includes((e as S3Error)?.name ?? '');

type S3Ref = Extract<MediaRef, { source: 's3' }>;

export function createS3MediaReader(client: S3Client) {
  return {
    async head(ref: S3Ref): Promise<MediaHead | null> {
      try {
        const out = await client.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
        return { contentType: out.ContentType ?? null, bytes: out.ContentLength ?? 0 };
      } catch (error) {
        if (absent(error)) return null;
        throw retryable('internal', 'the media bucket could not be read (HEAD)', undefined, error);
      }
    },

    async read(ref: S3Ref, start: number, end: number): Promise<Buffer> {
      let bytes: Uint8Array | undefined;
      try {
        const out = await client.send(
          new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, Range: `bytes=${start}-${end - 1}` }),
        );
        bytes = await out.Body?.transformToByteArray();
      } catch (error) {
        throw retryable('internal', 'the media bucket could not be read (GET)', undefined, error);
      }
      // The object changed (or shrank) since its HEAD: the declared size would be wrong at X.
      if (!bytes || bytes.length !== end - start) {
        throw retryable('internal', `the media object changed while it was read (${ref.key.slice(0, 100)})`);
      }
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
  };
}
