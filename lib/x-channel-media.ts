/**
 * The media bucket of {@link XChannel} (issue 18): inbound DM media the poller downloads from X and
 * hands to the case system as presigned GET URLs, and outbound media the case system puts for the
 * sender to attach. Private, SSE-KMS with its own key (so a case system allowed to put media never
 * holds a key that opens the queues or the table), TLS only, public access blocked, objects expire
 * after `mediaExpiration`. Server access logs go to a log bucket of their own: they are the only
 * record of who opened a presigned URL (CloudTrail logs the signer, not the fetcher).
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { MEDIA_PREFIXES } from '../adapters/aws/s3';
import { viaService } from './x-channel-functions';

/** Who may do what with the media bucket. */
export type MediaAccess = 'inbound' | 'readOutbound' | 'putOutbound';

/** The S3 actions per access, on `<bucket>/<prefix>*` only. */
export const MEDIA_S3_ACTIONS: Readonly<Record<MediaAccess, readonly string[]>> = {
  // HeadObject (is this content already stored?) and presigning GETs need s3:GetObject.
  inbound: ['s3:PutObject', 's3:GetObject'],
  readOutbound: ['s3:GetObject'],
  putOutbound: ['s3:PutObject'],
};

/** The media key's actions per access, only when S3 calls them (`kms:ViaService`). */
export const MEDIA_KEY_ACTIONS: Readonly<Record<MediaAccess, readonly string[]>> = {
  inbound: ['kms:GenerateDataKey', 'kms:Decrypt'],
  readOutbound: ['kms:Decrypt'],
  putOutbound: ['kms:GenerateDataKey'],
};

const PREFIX: Readonly<Record<MediaAccess, string>> = {
  inbound: MEDIA_PREFIXES.inbound,
  readOutbound: MEDIA_PREFIXES.outbound,
  putOutbound: MEDIA_PREFIXES.outbound,
};

export interface MediaBucketOptions {
  removalPolicy: RemovalPolicy;
  /** Objects (and access logs) are deleted this long after they were written. */
  expiration: Duration;
}

export interface MediaBucket {
  bucket: s3.Bucket;
  key: kms.Key;
  logBucket: s3.Bucket;
}

/** Creates the media bucket, its key and its access-log bucket in `scope` (ids `MediaKey`, `MediaBucket`, `MediaLogBucket`). */
export function createMediaBucket(scope: Construct, options: MediaBucketOptions): MediaBucket {
  const key = new kms.Key(scope, 'MediaKey', {
    description: 'x-channel: encrypts the media bucket',
    enableKeyRotation: true,
    removalPolicy: options.removalPolicy,
  });
  // S3 delivers server access logs only to a bucket encrypted with S3-managed keys.
  const logBucket = new s3.Bucket(scope, 'MediaLogBucket', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    // Object ownership is left to CDK: log delivery through the LogDeliveryWrite ACL (ObjectWriter) or,
    // with the serverAccessLogsUseBucketPolicy feature flag, a bucket policy.
    lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(365) }],
    removalPolicy: options.removalPolicy,
  });
  const bucket = new s3.Bucket(scope, 'MediaBucket', {
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: key,
    bucketKeyEnabled: true,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: false,
    serverAccessLogsBucket: logBucket,
    serverAccessLogsPrefix: 'media/',
    lifecycleRules: [
      { id: 'expire-media', expiration: options.expiration },
      { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
    ],
    removalPolicy: options.removalPolicy,
  });
  return { bucket, key, logBucket };
}

/** Grants `access` on the media bucket: the S3 actions on its prefix and the key through S3 only. */
export function grantMedia(grantee: iam.IGrantable, media: MediaBucket, access: MediaAccess): iam.Grant {
  const onObjects = iam.Grant.addToPrincipal({
    grantee,
    actions: [...MEDIA_S3_ACTIONS[access]],
    resourceArns: [media.bucket.arnForObjects(`${PREFIX[access]}*`)],
  });
  const onKey = iam.Grant.addToPrincipal({
    grantee,
    actions: [...MEDIA_KEY_ACTIONS[access]],
    resourceArns: [media.key.keyArn],
    conditions: viaService('s3'),
  });
  return onObjects.combine(onKey);
}
