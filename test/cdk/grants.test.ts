/**
 * The construct's public grants (STYLE.md §8): each one, called on a new role, attaches exactly the
 * statements its TSDoc lists, and none is broader than what x-channel grants its own functions.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { XChannel } from '../../lib/x-channel';
import { codeForMissingEntries } from './build';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

// Prepare: one channel and one new role per public grant, in the same stack.
const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Grants', {
  env: { region: 'eu-west-1' },
});
const channel = new XChannel(stack, 'C', { prebuiltCode: codeForMissingEntries() });
const grants = {
  grantConsumeInbound: (role: iam.IGrantable) => channel.grantConsumeInbound(role),
  grantSendOutbound: (role: iam.IGrantable) => channel.grantSendOutbound(role),
  grantConsumeResults: (role: iam.IGrantable) => channel.grantConsumeResults(role),
  grantPutOutboundMedia: (role: iam.IGrantable) => channel.grantPutOutboundMedia(role),
};
const roles = Object.fromEntries(
  Object.entries(grants).map(([name, grant]) => {
    const role = new iam.Role(stack, `${name}Role`, { assumedBy: new iam.AccountRootPrincipal() });
    grant(role);
    return [name, role];
  }),
) as Record<keyof typeof grants, iam.Role>;
const template = Template.fromStack(stack);
const logicalId = (c: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(c.node.defaultChild as Parameters<Stack['getLogicalId']>[0]);

function statementsOf(role: iam.IRole): Statement[] {
  const roleId = logicalId(role as never);
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const arnOf = (c: { node: { defaultChild?: unknown } }) => ({ 'Fn::GetAtt': [logicalId(c), 'Arn'] });
const viaSqs = {
  StringEquals: {
    'kms:ViaService': { 'Fn::Join': ['', ['sqs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
  },
};
const consumeActions = [
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibility',
  'sqs:GetQueueAttributes',
];

describe('public grants attach exactly the statements their TSDoc lists', () => {
  it.each([
    ['grantConsumeInbound', channel.queues.inbound, consumeActions, 'kms:Decrypt'],
    ['grantSendOutbound', channel.queues.outbound, 'sqs:SendMessage', ['kms:GenerateDataKey', 'kms:Decrypt']],
    ['grantConsumeResults', channel.queues.results, consumeActions, 'kms:Decrypt'],
  ] as const)('%s', (name, queue, queueActions, keyActions) => {
    // Act
    const statements = statementsOf(roles[name]);
    // Assess
    expect(statements).toEqual([
      { Effect: 'Allow', Action: queueActions, Resource: arnOf(queue) },
      { Effect: 'Allow', Action: keyActions, Resource: arnOf(channel.dataKey), Condition: viaSqs },
    ]);
  });

  it('grantPutOutboundMedia: s3:PutObject under outbound/ and GenerateDataKey on the media key through S3', () => {
    const statements = statementsOf(roles.grantPutOutboundMedia);
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: { 'Fn::Join': ['', [arnOf(channel.mediaBucket), '/outbound/*']] },
      },
      {
        Effect: 'Allow',
        Action: 'kms:GenerateDataKey',
        Resource: arnOf(channel.mediaKey),
        Condition: {
          StringEquals: {
            'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
          },
        },
      },
    ]);
    expect(JSON.stringify(statements)).not.toContain(logicalId(channel.dataKey));
  });

  it('never touch the token key, the table or the queues resource policies', () => {
    const tokenKeyId = logicalId(channel.key);
    const tableId = logicalId(channel.table);
    for (const role of Object.values(roles)) {
      const text = JSON.stringify(statementsOf(role));
      expect(text).not.toContain(tokenKeyId);
      expect(text).not.toContain(tableId);
    }
    // Same account: the grants go on the role, never into a queue policy or the key policy.
    const queuePolicies = JSON.stringify(template.findResources('AWS::SQS::QueuePolicy'));
    const keys = JSON.stringify(template.findResources('AWS::KMS::Key'));
    for (const role of Object.values(roles)) {
      expect(queuePolicies).not.toContain(logicalId(role as never));
      expect(keys).not.toContain(logicalId(role as never));
    }
  });
});

describe("public grants are no broader than the construct's own", () => {
  const own = (fn: 'poller' | 'sender') => statementsOf(channel.functions[fn].role!);
  const allowedOn = (statements: Statement[], resource: unknown, condition?: unknown) =>
    statements
      .filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Resource) === JSON.stringify(resource))
      .filter((s) => condition === undefined || JSON.stringify(s.Condition) === JSON.stringify(condition))
      .flatMap(actions);

  it('sending outbound: the sender sends its results with at least these actions', () => {
    const [onQueue, onKey] = statementsOf(roles.grantSendOutbound);
    expect(allowedOn(own('sender'), arnOf(channel.queues.results))).toEqual(
      expect.arrayContaining(actions(onQueue)),
    );
    expect(allowedOn(own('sender'), arnOf(channel.dataKey), viaSqs)).toEqual(
      expect.arrayContaining(actions(onKey)),
    );
  });

  it.each(['grantConsumeInbound', 'grantConsumeResults'] as const)(
    '%s: the sender consumes outbound with at least these actions',
    (name) => {
      const [onQueue, onKey] = statementsOf(roles[name]);
      expect(allowedOn(own('sender'), arnOf(channel.queues.outbound))).toEqual(
        expect.arrayContaining(actions(onQueue)),
      );
      // The event source's grant decrypts through SQS only, like the public one.
      expect(allowedOn(own('sender'), arnOf(channel.dataKey), viaSqs)).toEqual(
        expect.arrayContaining(actions(onKey)),
      );
    },
  );
});
