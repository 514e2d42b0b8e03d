/**
 * The media bucket of the XChannel construct (issue 18): private, SSE-KMS with its own key, TLS only,
 * public access blocked, lifecycle expiry, access logs to a log bucket; least-privilege grants (the
 * poller writes inbound media, the sender reads outbound media); the name in the stack outputs; the
 * media props checked by the rule table.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { XChannel, XChannelPropsError } from '../../lib/x-channel';
import { buildStack, codeForMissingEntries } from './build';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

const { stack, template } = buildStack();
const logicalId = (c: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(c.node.defaultChild as Parameters<Stack['getLogicalId']>[0]);
const mediaId = logicalId(stack.channel.mediaBucket);
const mediaKeyId = logicalId(stack.channel.mediaKey);

function roleStatements(name: 'api' | 'dispatcher' | 'poller' | 'sender' | 'webhook'): Statement[] {
  const roleId = logicalId(stack.channel.functions[name].role! as never);
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}
const viaS3 = {
  StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
};
const objects = (prefix: string) => ({
  'Fn::Join': ['', [{ 'Fn::GetAtt': [mediaId, 'Arn'] }, `/${prefix}*`]],
});

describe('media bucket', () => {
  const bucket = template.findResources('AWS::S3::Bucket')[mediaId];

  it('is SSE-KMS with its own rotating key (bucket key on), private and blocks public access', () => {
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      {
        BucketKeyEnabled: true,
        ServerSideEncryptionByDefault: {
          SSEAlgorithm: 'aws:kms',
          KMSMasterKeyID: { 'Fn::GetAtt': [mediaKeyId, 'Arn'] },
        },
      },
    ]);
    expect(mediaKeyId).not.toBe(logicalId(stack.channel.dataKey));
    expect(template.findResources('AWS::KMS::Key')[mediaKeyId].Properties.EnableKeyRotation).toBe(true);
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.Properties.OwnershipControls).toEqual({
      Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }],
    });
    expect(bucket.UpdateReplacePolicy ?? bucket.DeletionPolicy).toBe('Retain');
  });

  it('refuses plain HTTP (enforceSSL) in its bucket policy', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: mediaId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('expires objects after 30 days by default and aborts incomplete uploads after a day', () => {
    expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual([
      { Id: 'expire-media', ExpirationInDays: 30, Status: 'Enabled' },
      {
        Id: 'abort-incomplete-uploads',
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        Status: 'Enabled',
      },
    ]);
  });

  it('logs server access to a log bucket that is private, TLS only and S3-encrypted', () => {
    const logId = logicalId(stack.channel.node.findChild('MediaLogBucket') as never);
    const logBucket = template.findResources('AWS::S3::Bucket')[logId];
    expect(bucket.Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logId },
      LogFilePrefix: 'media/',
    });
    expect(logBucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
    ]);
    expect(logBucket.Properties.PublicAccessBlockConfiguration.RestrictPublicBuckets).toBe(true);
  });

  it('has its name and key in the stack outputs', () => {
    template.hasOutput('MediaBucketName', { Value: { Ref: mediaId } });
    template.hasOutput('MediaKeyArn', { Value: { 'Fn::GetAtt': [mediaKeyId, 'Arn'] } });
  });
});

describe('media grants: least privilege', () => {
  it('poller: PutObject and GetObject under inbound/ only, the media key through S3 only, and MEDIA_BUCKET set', () => {
    const statements = roleStatements('poller').filter((s) =>
      JSON.stringify(s).match(new RegExp(`${mediaId}|${mediaKeyId}`)),
    );
    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject'], Resource: objects('inbound/') },
      {
        Effect: 'Allow',
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: { 'Fn::GetAtt': [mediaKeyId, 'Arn'] },
        Condition: viaS3,
      },
    ]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('poller'),
      Environment: {
        Variables: Match.objectLike({ MEDIA_BUCKET: { Ref: mediaId }, MEDIA_URL_TTL_SECONDS: '21600' }),
      },
    });
  });

  it('sender: GetObject under outbound/ only (no put, no delete), Decrypt through S3 only', () => {
    const statements = roleStatements('sender').filter((s) =>
      JSON.stringify(s).match(new RegExp(`${mediaId}|${mediaKeyId}`)),
    );
    expect(statements).toEqual([
      { Effect: 'Allow', Action: 's3:GetObject', Resource: objects('outbound/') },
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: { 'Fn::GetAtt': [mediaKeyId, 'Arn'] },
        Condition: viaS3,
      },
    ]);
  });

  it.each(['api', 'dispatcher', 'webhook'] as const)('%s: nothing on the media bucket or its key', (name) => {
    const text = JSON.stringify(roleStatements(name));
    expect(text).not.toContain(mediaId);
    expect(text).not.toContain(mediaKeyId);
  });

  it('no statement anywhere allows s3:* or a bucket-wide object wildcard on the media bucket', () => {
    const all = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Statement[],
    );
    for (const s of all.filter((x) => x.Effect === 'Allow')) {
      expect([s.Action].flat()).not.toContain('s3:*');
      expect(JSON.stringify(s.Resource)).not.toContain(`"${mediaId}","Arn"]},"/*"`);
    }
  });
});

describe('media props', () => {
  const build = (props: ConstructorParameters<typeof XChannel>[2]) => {
    const s = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'M', {
      env: { region: 'eu-west-1' },
    });
    new XChannel(s, 'C', { prebuiltCode: codeForMissingEntries(), ...props });
    return Template.fromStack(s);
  };

  it('mediaExpiration and mediaUrlLifetime set the lifecycle rule and the poller URL lifetime', () => {
    const t = build({ mediaExpiration: Duration.days(7), mediaUrlLifetime: Duration.days(2) });
    t.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([{ Id: 'expire-media', ExpirationInDays: 7, Status: 'Enabled' }]),
      },
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MEDIA_URL_TTL_SECONDS: String(2 * 86400) }) },
    });
  });

  const senderEnv = (t: Template) =>
    Object.values(t.findResources('AWS::Lambda::Function'))
      .map((f) => f.Properties.Environment?.Variables ?? {})
      .find((v) => v.RESULTS_QUEUE_URL !== undefined);

  it('outboundMediaAllowedOrigins reaches the sender as OUTBOUND_MEDIA_ALLOWED_ORIGINS; unset, no origin is allowed', () => {
    expect(senderEnv(template)).toBeDefined();
    expect(senderEnv(template)).not.toHaveProperty('OUTBOUND_MEDIA_ALLOWED_ORIGINS');
    const t = build({
      outboundMediaAllowedOrigins: ['https://cdn.example.com', 'https://files.example.com:8443'],
    });
    expect(senderEnv(t)).toMatchObject({
      OUTBOUND_MEDIA_ALLOWED_ORIGINS: 'https://cdn.example.com,https://files.example.com:8443',
    });
    // only the sender fetches outbound media
    const others = Object.values(t.findResources('AWS::Lambda::Function')).filter(
      (f) => f.Properties.Environment?.Variables?.OUTBOUND_MEDIA_ALLOWED_ORIGINS !== undefined,
    );
    expect(others).toHaveLength(1);
  });

  it.each([
    [
      { outboundMediaAllowedOrigins: ['http://cdn.example.com', 'https://cdn.example.com/files'] },
      'outboundMediaAllowedOrigins must be lowercase https origins without a path (https://host[:port]), got ["http://cdn.example.com","https://cdn.example.com/files"]',
    ],
    [
      { outboundMediaAllowedOrigins: ['https://CDN.example.com'] },
      'outboundMediaAllowedOrigins must be lowercase https origins',
    ],
    [
      { mediaExpiration: Duration.hours(36) },
      'mediaExpiration must be whole days from 1 to 3650, got 129600 seconds',
    ],
    [{ mediaExpiration: Duration.days(4000) }, 'mediaExpiration must be whole days from 1 to 3650'],
    [
      { mediaUrlLifetime: Duration.minutes(30) },
      'mediaUrlLifetime must be whole seconds from 1 hour to 7 days',
    ],
    [{ mediaUrlLifetime: Duration.days(8) }, 'mediaUrlLifetime must be whole seconds from 1 hour to 7 days'],
    [
      { mediaExpiration: Duration.days(1), mediaUrlLifetime: Duration.days(2) },
      'mediaUrlLifetime (172800 seconds) must not exceed mediaExpiration (86400 seconds)',
    ],
  ])('%j is refused, naming the prop', (props, message) => {
    let error: unknown;
    try {
      build(props);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(XChannelPropsError);
    expect((error as XChannelPropsError).problems.join('\n')).toContain(message);
  });
});
