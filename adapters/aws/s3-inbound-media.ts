/**
 * Inbound DM media in the media bucket (core/inbound/dm-media.ts `InboundMediaStore`): one PutObject at
 * `inbound/<channelId>/<sha256>` (content-addressed: the same bytes always land on the same key, so a
 * message read twice stores one object) and a presigned GET URL signed locally (no request) with
 * `@aws-sdk/s3-request-presigner`, valid `urlTtlSeconds` (MEDIA_URL_TTL_SECONDS, 1 h to 7 days).
 * The bucket encrypts with its own KMS key by default; the object says its content type and opens
 * inline only for the image and video types X sends (anything else is an attachment download).
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { InboundMediaStore } from '../../core/inbound/dm-media';
import { retryable } from '../../core/errors';
import { MEDIA_PREFIXES } from './s3';

export interface S3InboundMediaOptions {
  client: S3Client;
  bucket: string;
  urlTtlSeconds: number;
}

/** The key of an inbound object: under the channel, named by the hex SHA-256 of its bytes. */
export const inboundMediaKey = (channelId: string, sha256: string) =>
  `${MEDIA_PREFIXES.inbound}${channelId}/${sha256}`;

export function createS3InboundMedia(options: S3InboundMediaOptions): InboundMediaStore {
  return {
    async put({ channelId, sha256, bytes, contentType }) {
      const Key = inboundMediaKey(channelId, sha256);
      try {
        await options.client.send(
          new PutObjectCommand({
            Bucket: options.bucket,
            Key,
            Body: bytes,
            ContentType: contentType,
            ContentLength: bytes.byteLength,
            ...(contentType === 'application/octet-stream' ? { ContentDisposition: 'attachment' } : {}),
          }),
        );
      } catch (e) {
        // the SDK error's name only: its message may echo the request
        throw retryable(
          'media_store_failed',
          `could not store DM media (${(e as Error)?.name ?? 'unknown'})`,
          undefined,
          e,
        );
      }
      const url = await getSignedUrl(options.client, new GetObjectCommand({ Bucket: options.bucket, Key }), {
        expiresIn: options.urlTtlSeconds,
      });
      return { url };
    },
  };
}
