/**
 * The alerts in the construct (lib/x-channel-alerts.ts): the dispatcher's variables and its
 * least-privilege statements, the default bus, and the optional topic with its rule and e-mail.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as sns from 'aws-cdk-lib/aws-sns';
import { XChannel, XChannelPropsError } from '../../lib/x-channel';
import { buildStack, codeForMissingEntries } from './build';

const statementsOf = (template: Template, roleLogicalId: string) => {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
    (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleLogicalId),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Array<Record<string, any>>);
};

describe('alerts in XChannel', () => {
  const { stack, template } = buildStack();
  const dispatcher = stack.channel.functions.dispatcher;
  const roleId = stack.getLogicalId(dispatcher.role!.node.defaultChild as never);
  const statements = statementsOf(template, roleId);
  const sid = (name: string) => statements.find((s) => s.Sid === name)!;

  it('the dispatcher gets the bus, the deployment, the console URL and the four DLQs', () => {
    const id = stack.getLogicalId(dispatcher.node.defaultChild as never);
    const vars = template.toJSON().Resources[id].Properties.Environment.Variables;
    expect(vars).toMatchObject({ ALERT_EVENT_BUS: 'default', ALERT_DEPLOYMENT: 'XChannelTest/XChannel' });
    for (const k of [
      'CONSOLE_URL',
      'POLL_JOBS_DLQ_URL',
      'INBOUND_DLQ_URL',
      'OUTBOUND_DLQ_URL',
      'RESULTS_DLQ_URL',
    ])
      expect(vars[k]).toBeDefined();
  });

  it('reads only the alert, cost and real-time partitions and writes only ALERT (and the app’s budget list)', () => {
    expect(sid('AlertsRead')).toMatchObject({
      Action: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
      Condition: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ALERT', 'COST#*', 'COSTAPP*', 'RT#APP'] },
      },
    });
    expect(sid('AlertsWrite')).toMatchObject({
      Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['ALERT'] } },
    });
    // the one-time backfill of the app's list of channels with a budget: that list and its mark only
    expect(sid('AlertsBudgetList')).toMatchObject({
      Action: 'dynamodb:UpdateItem',
      Condition: {
        'ForAllValues:StringEquals': {
          'dynamodb:LeadingKeys': ['COSTAPP'],
          'dynamodb:Attributes': ['pk', 'sk', 'budgetedChannels', 'budgetedChannelsListedAt'],
        },
        StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE'] },
      },
    });
    // no other statement of the dispatcher writes the table
    const writes = statements.filter((s) =>
      [s.Action].flat().some((a: string) => /^dynamodb:(Put|Update|Delete|BatchWrite)/.test(a)),
    );
    expect(writes.map((s) => s.Sid)).toEqual(['AlertsWrite', 'AlertsBudgetList']);
  });

  it('may read the DLQs’ attributes only, and put events on the default bus with its own source only', () => {
    expect(sid('AlertsDlqDepth').Action).toBe('sqs:GetQueueAttributes');
    expect(sid('AlertsDlqDepth').Resource).toHaveLength(4);
    expect(sid('AlertsPutEvents')).toMatchObject({
      Action: 'events:PutEvents',
      Condition: { StringEquals: { 'events:source': 'x-channel.alerts' } },
    });
    expect(JSON.stringify(sid('AlertsPutEvents').Resource)).toContain(':event-bus/default');
  });

  it('without alertTopic or alertEmail there is no topic and no rule', () => {
    template.resourceCountIs('AWS::Events::Rule', 0);
    expect(stack.channel.alertTopic).toBeUndefined();
  });
});

describe('alert topic and e-mail', () => {
  it('alertEmail: an encrypted topic EventBridge may use, the e-mail subscription and a rule for this deployment', () => {
    const { template } = buildStack({ channel: { alertEmail: 'ops@example.com' } });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    template.hasResourceProperties('AWS::SNS::Topic', {
      DisplayName: 'x-channel alerts',
      KmsMasterKeyId: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      Description: 'x-channel: encrypts the alert topic',
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'events.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['x-channel.alerts'], detail: { deployment: ['XChannelTest/XChannel'] } },
      Targets: [Match.objectLike({ InputTransformer: Match.anyValue() })],
    });
  });

  it('a bus and a topic of the caller: events go to that bus, the rule to that topic', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Host', { env: { region: 'eu-west-1' } });
    const bus = new events.EventBus(stack, 'OpsBus');
    const topic = new sns.Topic(stack, 'OpsTopic');
    const channel = new XChannel(stack, 'XChannel', {
      alertEventBus: bus,
      alertTopic: topic,
      prebuiltCode: codeForMissingEntries(),
    });
    const template = Template.fromStack(stack);
    expect(channel.alertTopic).toBe(topic);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: stack.getLogicalId(bus.node.defaultChild as never) },
      Targets: [Match.objectLike({ Arn: { Ref: stack.getLogicalId(topic.node.defaultChild as never) } })],
    });
    const fnId = stack.getLogicalId(channel.functions.dispatcher.node.defaultChild as never);
    expect(template.toJSON().Resources[fnId].Properties.Environment.Variables.ALERT_EVENT_BUS).toEqual({
      'Fn::GetAtt': [stack.getLogicalId(bus.node.defaultChild as never), 'Arn'],
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('a bad alertEmail is named', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Bad', { env: { region: 'eu-west-1' } });
    expect(
      () =>
        new XChannel(stack, 'XChannel', {
          alertEmail: 'not-an-address',
          prebuiltCode: codeForMissingEntries(),
        }),
    ).toThrow(XChannelPropsError);
    expect(
      () => new XChannel(stack, 'XChannel2', { alertEmail: 'nope', prebuiltCode: codeForMissingEntries() }),
    ).toThrow(/alertEmail must be an e-mail address, got "nope"/);
  });
});
