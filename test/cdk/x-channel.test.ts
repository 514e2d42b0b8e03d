/** Template assertions for the XChannel construct (STYLE.md §9: DLQs, encryption, grants) and its props. */
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CHANNEL_GAUGES, METRICS_NAMESPACE, METRICS_SERVICE_NAME } from '../../core/metrics';
import { HANDLERS, type HandlerName } from '../../lib/handlers';
import { ROUTES, routeKey } from '../../lib/routes';
import { XChannel, XChannelPropsError } from '../../lib/x-channel';
import { buildStack, codeForMissingEntries } from './build';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

const { stack, template } = buildStack({ channel: { adminEmails: ['ops@example.com'] } });
const resources = (type: string) => template.findResources(type);
const logicalId = (c: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(c.node.defaultChild as Parameters<Stack['getLogicalId']>[0]);

/** Every Allow statement attached to a function's role, with its actions as an array. */
function roleStatements(name: HandlerName): Statement[] {
  const roleId = logicalId(stack.channel.functions[name].role! as never);
  const statements: Statement[] = [];
  for (const policy of Object.values(resources('AWS::IAM::Policy'))) {
    const roles = (policy.Properties.Roles as Array<{ Ref: string }>).map((r) => r.Ref);
    if (roles.includes(roleId))
      statements.push(...(policy.Properties.PolicyDocument.Statement as Statement[]));
  }
  return statements;
}
const actionsOf = (statements: Statement[], effect = 'Allow') =>
  statements
    .filter((s) => s.Effect === effect)
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
const refersTo = (statement: Statement, id: string) => JSON.stringify(statement.Resource).includes(id);

describe('queues', () => {
  const queues = resources('AWS::SQS::Queue');
  const dlqIds = ['pollJobsDlq', 'inboundDlq', 'outboundDlq', 'resultsDlq'].map((k) =>
    logicalId(stack.channel.queues[k as keyof typeof stack.channel.queues]),
  );

  it('has four queues and four DLQs', () => {
    expect(Object.keys(queues)).toHaveLength(8);
  });

  it.each(['pollJobs', 'inbound', 'outbound', 'results'] as const)(
    '%s has a redrive policy to its own DLQ',
    (role) => {
      const q = queues[logicalId(stack.channel.queues[role])];
      expect(q.Properties.RedrivePolicy.deadLetterTargetArn).toEqual({
        'Fn::GetAtt': [logicalId(stack.channel.queues[`${role}Dlq`]), 'Arn'],
      });
      expect(q.Properties.RedrivePolicy.maxReceiveCount).toBeGreaterThan(0);
    },
  );

  it('every queue is KMS-encrypted with the data key and refuses plain HTTP', () => {
    const dataKeyId = logicalId(stack.channel.dataKey);
    for (const q of Object.values(queues)) {
      expect(q.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [dataKeyId, 'Arn'] });
    }
    const policies = Object.values(resources('AWS::SQS::QueuePolicy'));
    const securedQueues = policies
      .filter((p) =>
        (p.Properties.PolicyDocument.Statement as Statement[]).some(
          (s) => s.Effect === 'Deny' && JSON.stringify(s.Condition).includes('"aws:SecureTransport":"false"'),
        ),
      )
      .flatMap((p) => p.Properties.Queues as Array<{ Ref: string }>)
      .map((r) => r.Ref);
    expect(new Set(securedQueues)).toEqual(new Set(Object.keys(queues)));
    expect(dlqIds.every((id) => securedQueues.includes(id))).toBe(true);
  });

  it('inbound and outbound are FIFO (and so are their DLQs); poll-jobs and results are standard', () => {
    const fifo = (k: keyof typeof stack.channel.queues) =>
      queues[logicalId(stack.channel.queues[k])].Properties.FifoQueue;
    expect([fifo('inbound'), fifo('inboundDlq'), fifo('outbound'), fifo('outboundDlq')]).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect([fifo('pollJobs'), fifo('results')]).toEqual([undefined, undefined]);
  });

  it('has no hard-coded queue names', () => {
    for (const q of Object.values(queues)) expect(q.Properties.QueueName).toBeUndefined();
  });

  it.each([
    ['pollJobs', 'poller'],
    ['outbound', 'sender'],
  ] as const)('%s visibility timeout is at least 6x the %s timeout', (role, fn) => {
    const q = queues[logicalId(stack.channel.queues[role])];
    expect(q.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * HANDLERS[fn].timeoutSeconds);
  });

  it('has a depth alarm per DLQ', () => {
    const alarms = Object.values(resources('AWS::CloudWatch::Alarm'));
    for (const id of dlqIds) {
      const match = alarms.filter(
        (a) =>
          a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          JSON.stringify(a.Properties.Dimensions).includes(id) &&
          a.Properties.Threshold === 0,
      );
      expect(match).toHaveLength(1);
    }
  });
});

describe('keys and table', () => {
  it('all three keys rotate (token, data, media)', () => {
    template.resourcePropertiesCountIs('AWS::KMS::Key', { EnableKeyRotation: true }, 3);
    expect(resources('AWS::KMS::Key')[logicalId(stack.channel.key)].Properties.EnableKeyRotation).toBe(true);
  });

  it('table: on-demand, PITR, TTL on expiresAt, CMK, both GSIs, deletion protection, retained', () => {
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS' }),
        GlobalSecondaryIndexes: [
          Match.objectLike({ IndexName: 'gsi1', Projection: { ProjectionType: 'KEYS_ONLY' } }),
          Match.objectLike({ IndexName: 'gsi2', Projection: { ProjectionType: 'ALL' } }),
        ],
        Replicas: [
          Match.objectLike({
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
            DeletionProtectionEnabled: true,
          }),
        ],
      }),
    });
  });

  it('keys and user pool are retained by default', () => {
    for (const key of Object.values(resources('AWS::KMS::Key'))) expect(key.DeletionPolicy).toBe('Retain');
    template.hasResource('AWS::Cognito::UserPool', { DeletionPolicy: 'Retain' });
  });
});

describe('functions', () => {
  const fns = resources('AWS::Lambda::Function');

  it('all five run nodejs22.x on arm64 with active tracing and their own role', () => {
    expect(Object.keys(fns)).toHaveLength(5);
    const roles = new Set<string>();
    for (const fn of Object.values(fns)) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      roles.add(JSON.stringify(fn.Properties.Role));
    }
    expect(roles.size).toBe(5);
  });

  it('each has a log group with retention', () => {
    for (const fn of Object.values(fns)) {
      const groupId = fn.Properties.LoggingConfig.LogGroup.Ref as string;
      expect(resources('AWS::Logs::LogGroup')[groupId].Properties.RetentionInDays).toBe(90);
    }
  });

  it('no role uses an AWS managed policy', () => {
    for (const role of Object.values(resources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('dispatcher has no Secrets Manager action at all, no table write but its alerts, and queries only the two indexes', () => {
    const statements = roleStatements('dispatcher');
    const actions = actionsOf(statements);
    expect(actions.filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
    // the alerts' statements (test/cdk/alerts.test.ts) are confined to their partitions by dynamodb:LeadingKeys
    const confined = (s: Statement) => JSON.stringify(s.Condition ?? {}).includes('dynamodb:LeadingKeys');
    const open = statements.filter((s) => !confined(s));
    expect(
      actionsOf(open)
        .filter((a) => a.startsWith('dynamodb:'))
        .sort(),
    ).toEqual(['dynamodb:Query']);
    const writes = statements.filter((s) =>
      actionsOf([s]).some((a) => /^dynamodb:(Put|Update|Delete|BatchWrite)/.test(a)),
    );
    // the alert records, and the one-time backfill of the app's list of budgeted channels (only that
    // list and its mark on the COSTAPP item, lib/x-channel-alerts.ts)
    expect(writes.map((s) => s.Condition)).toEqual([
      { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['ALERT'] } },
      {
        'ForAllValues:StringEquals': {
          'dynamodb:LeadingKeys': ['COSTAPP'],
          'dynamodb:Attributes': ['pk', 'sk', 'budgetedChannels', 'budgetedChannelsListedAt'],
        },
        StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE'] },
      },
    ]);
    expect(actionsOf(writes.slice(1))).toEqual(['dynamodb:UpdateItem']);
    const query = open.find((s) => actionsOf([s]).includes('dynamodb:Query'))!;
    const resources = JSON.stringify(query.Resource);
    expect(resources).toMatch(/\/index\/gsi1"/);
    expect(resources).toMatch(/\/index\/gsi2"/);
    expect(JSON.stringify(statements)).not.toContain(logicalId(stack.channel.key));
  });

  it('sender cannot create or delete secrets, and its token access is scoped to the token prefix', () => {
    const statements = roleStatements('sender');
    const actions = actionsOf(statements);
    expect(actions).not.toContain('secretsmanager:CreateSecret');
    expect(actions).not.toContain('secretsmanager:DeleteSecret');
    expect(actions).toEqual(
      expect.arrayContaining(['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue']),
    );
    const tokens = statements.find((s) => actionsOf([s]).includes('secretsmanager:PutSecretValue'))!;
    expect(JSON.stringify(tokens.Resource)).toContain(`secret:${stack.channel.tokenSecretPrefix}*`);
  });

  it('poller cannot send to results (only to inbound) nor manage secrets', () => {
    const statements = roleStatements('poller');
    const sends = statements.filter((s) => actionsOf([s]).includes('sqs:SendMessage'));
    expect(sends).toHaveLength(1);
    expect(refersTo(sends[0], logicalId(stack.channel.queues.inbound))).toBe(true);
    expect(statements.some((s) => refersTo(s, logicalId(stack.channel.queues.results)))).toBe(false);
    expect(actionsOf(statements)).not.toContain('secretsmanager:CreateSecret');
  });

  it('sender sends only to results and the outbound DLQ, and consumes outbound (visibility changes included)', () => {
    const statements = roleStatements('sender');
    const sends = statements.filter((s) => actionsOf([s]).includes('sqs:SendMessage'));
    expect(sends.map((s) => JSON.stringify(s.Resource))).toEqual([
      JSON.stringify({ 'Fn::GetAtt': [logicalId(stack.channel.queues.results), 'Arn'] }),
      JSON.stringify({ 'Fn::GetAtt': [logicalId(stack.channel.queues.outboundDlq), 'Arn'] }),
    ]);
    const consume = statements.find((s) => actionsOf([s]).includes('sqs:ChangeMessageVisibility'))!;
    expect(refersTo(consume, logicalId(stack.channel.queues.outbound))).toBe(true);
  });

  it('api manages token secrets, must create them with the token key, and sends poll jobs', () => {
    const statements = roleStatements('api');
    expect(actionsOf(statements)).toEqual(
      expect.arrayContaining([
        'secretsmanager:CreateSecret',
        'secretsmanager:DeleteSecret',
        'sqs:SendMessage',
      ]),
    );
    expect(actionsOf(statements, 'Deny')).toEqual(['secretsmanager:CreateSecret']);
    const send = statements.find((s) => actionsOf([s]).includes('sqs:SendMessage'))!;
    expect(refersTo(send, logicalId(stack.channel.queues.pollJobs))).toBe(true);
  });

  it('token key use is only through Secrets Manager, and only api/poller/sender have it', () => {
    const keyId = logicalId(stack.channel.key);
    for (const name of Object.keys(HANDLERS) as HandlerName[]) {
      const onKey = roleStatements(name).filter((s) => refersTo(s, keyId));
      if (name === 'dispatcher' || name === 'webhook') expect(onKey).toEqual([]);
      else {
        expect(onKey).toHaveLength(1);
        expect(JSON.stringify(onKey[0].Condition)).toContain('secretsmanager.');
      }
    }
  });

  it('the data key opens only through SQS or DynamoDB for every function, queue consumers included (#19)', () => {
    const keyId = logicalId(stack.channel.dataKey);
    for (const name of Object.keys(HANDLERS) as HandlerName[]) {
      for (const s of roleStatements(name).filter((x) => refersTo(x, keyId))) {
        expect(JSON.stringify(s.Condition)).toMatch(
          /"kms:ViaService":\{"Fn::Join":\["",\["(sqs|dynamodb)\."/,
        );
      }
    }
    // The consumers' grants: Decrypt through SQS, next to the receive actions on their queue.
    for (const [name, queue] of [
      ['poller', stack.channel.queues.pollJobs],
      ['sender', stack.channel.queues.outbound],
    ] as const) {
      const statements = roleStatements(name);
      const viaSqs = statements.filter(
        (s) => refersTo(s, keyId) && JSON.stringify(s.Condition).includes('"sqs."'),
      );
      expect(actionsOf(viaSqs)).toContain('kms:Decrypt');
      const receive = statements.find((s) => actionsOf([s]).includes('sqs:ReceiveMessage'))!;
      expect(refersTo(receive, logicalId(queue))).toBe(true);
    }
  });

  it('no function has a wildcard action', () => {
    for (const name of Object.keys(HANDLERS) as HandlerName[]) {
      expect(actionsOf(roleStatements(name)).filter((a) => a.includes('*'))).toEqual([]);
    }
  });

  it('poller and sender consume with partial batch responses and bounded concurrency', () => {
    const mappings = Object.values(resources('AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(2);
    for (const m of mappings) {
      expect(m.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
      expect(m.Properties.ScalingConfig.MaximumConcurrency).toBeGreaterThanOrEqual(2);
    }
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.channel.queues.outbound), 'Arn'] },
    });
  });

  it('the schedule invokes the dispatcher every minute by default', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 minute)',
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [logicalId(stack.channel.functions.dispatcher), 'Arn'] },
      }),
    });
  });
});

describe('HTTP API', () => {
  const routes = Object.values(resources('AWS::ApiGatewayV2::Route'));
  const byKey = new Map(routes.map((r) => [r.Properties.RouteKey as string, r.Properties]));

  it.each(['GET /oauth/callback', 'GET /', 'GET /assets/{proxy+}'])('%s is public', (key) => {
    expect(byKey.get(key)).toBeDefined();
    expect(byKey.get(key)!.AuthorizationType ?? 'NONE').toBe('NONE');
    expect(byKey.get(key)!.AuthorizerId).toBeUndefined();
  });

  it.each([
    'POST /channels',
    'GET /channels',
    'GET /channels/{id}',
    'PATCH /channels/{id}',
    'DELETE /channels/{id}',
    'POST /channels/{id}/authorize',
    'GET /channels/{id}/health',
  ])('%s requires the Cognito JWT authorizer', (key) => {
    const authorizers = resources('AWS::ApiGatewayV2::Authorizer');
    expect(Object.keys(authorizers)).toHaveLength(1);
    const [authorizerId] = Object.keys(authorizers);
    expect(byKey.get(key)).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: { Ref: authorizerId } });
  });

  it('has exactly the routes of lib/routes.ts (the fixed ones among them)', () => {
    const keys = [...byKey.keys()].sort();
    expect(keys).toEqual(ROUTES.map(routeKey).sort());
    expect(routes).toHaveLength(ROUTES.length);
    for (const fixed of [
      'POST /channels',
      'GET /channels',
      'GET /channels/{id}',
      'PATCH /channels/{id}',
      'DELETE /channels/{id}',
      'POST /channels/{id}/authorize',
      'GET /channels/{id}/health',
      'GET /oauth/callback',
      'GET /x/webhook',
      'POST /x/webhook',
    ])
      expect(keys).toContain(fixed);
  });

  it.each(ROUTES.filter((r) => r.auth === 'admin').map(routeKey))(
    '%s (admin in lib/routes.ts) has the JWT authorizer',
    (key) => {
      expect(byKey.get(key)).toMatchObject({ AuthorizationType: 'JWT' });
    },
  );

  it('the stage throttles and writes JSON access logs', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"requestId"') },
    });
  });

  it('public routes have their own per-route limits, apart from the admin routes (defaults)', () => {
    const [stage] = Object.values(resources('AWS::ApiGatewayV2::Stage'));
    const settings = stage.Properties.RouteSettings as Record<string, Record<string, number>>;
    const limits = (rate: number, burst: number) => ({
      ThrottlingRateLimit: rate,
      ThrottlingBurstLimit: burst,
    });
    expect(settings['POST /x/webhook']).toEqual(limits(100, 200));
    expect(settings['GET /x/webhook']).toEqual(limits(100, 200));
    expect(settings['GET /']).toEqual(limits(10, 20));
    expect(settings['GET /assets/{proxy+}']).toEqual(limits(10, 20));
    expect(settings['GET /oauth/callback']).toEqual(limits(10, 20));
    expect(settings['GET /channels']).toEqual(limits(20, 40));
    expect(settings['DELETE /channels/{id}']).toEqual(limits(20, 40));
    // every route of the table has its row, and the stage is created after the routes it names
    expect(Object.keys(settings).sort()).toEqual(routes.map((r) => r.Properties.RouteKey).sort());
    expect(stage.DependsOn).toEqual(
      expect.arrayContaining(Object.keys(resources('AWS::ApiGatewayV2::Route'))),
    );
  });

  it('the throttle props set the console, webhook and admin route limits', () => {
    const custom = buildStack({
      channel: {
        apiThrottle: { rateLimit: 5, burstLimit: 6 },
        consoleThrottle: { rateLimit: 3, burstLimit: 4 },
        webhookThrottle: { rateLimit: 300, burstLimit: 600 },
      },
    }).template;
    custom.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 6 },
      RouteSettings: {
        'POST /x/webhook': { ThrottlingRateLimit: 300, ThrottlingBurstLimit: 600 },
        'GET /oauth/callback': { ThrottlingRateLimit: 3, ThrottlingBurstLimit: 4 },
        'PATCH /channels/{id}': { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 6 },
      },
    });
  });

  it('the console client is public (no secret) with the console URL as callback, and admins are invited', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      CallbackURLs: [Match.objectLike({ 'Fn::Join': Match.anyValue() })],
    });
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolUser', { Username: 'ops@example.com' });
  });
});

describe('metrics namespace (core/metrics.ts)', () => {
  type MetricStat = { Metric: { Namespace: string; MetricName: string; Dimensions?: unknown } };
  const alarms = Object.values(resources('AWS::CloudWatch::Alarm'));
  /** Every metric an alarm watches, whether directly or inside a math expression. */
  const watched = alarms.flatMap((a) =>
    a.Properties.Namespace
      ? [{ Namespace: a.Properties.Namespace as string, MetricName: a.Properties.MetricName as string }]
      : ((a.Properties.Metrics ?? []) as Array<{ MetricStat?: MetricStat }>)
          .filter((m) => m.MetricStat)
          .map((m) => m.MetricStat!.Metric),
  );

  it('every alarm on an x-channel metric watches METRICS_NAMESPACE', () => {
    const custom = watched.filter((m) => !m.Namespace.startsWith('AWS/'));
    expect(custom.length).toBeGreaterThan(0);
    expect(new Set(custom.map((m) => m.Namespace))).toEqual(new Set([METRICS_NAMESPACE]));
  });

  it('the attention alarm watches both channel gauges with the service dimension the functions set', () => {
    const gauges = watched.filter((m) => m.Namespace === METRICS_NAMESPACE);
    expect(gauges.map((m) => m.MetricName).sort()).toEqual(Object.values(CHANNEL_GAUGES).sort());
    for (const m of gauges) {
      expect((m as MetricStat['Metric']).Dimensions).toEqual([
        { Name: 'service', Value: METRICS_SERVICE_NAME },
      ]);
    }
  });

  it('every function publishes under METRICS_NAMESPACE as the service the alarms filter on', () => {
    for (const fn of Object.values(resources('AWS::Lambda::Function'))) {
      expect(fn.Properties.Environment.Variables).toMatchObject({
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_SERVICE_NAME: METRICS_SERVICE_NAME,
      });
    }
  });
});

describe('stack outputs', () => {
  it.each([
    'AdminConsoleUrl',
    'OAuthCallbackUrl',
    'WebhookUrl',
    'InboundQueueUrl',
    'InboundQueueArn',
    'OutboundQueueUrl',
    'OutboundQueueArn',
    'ResultsQueueUrl',
    'ResultsQueueArn',
    'UserPoolId',
  ])('%s', (name) => {
    expect(template.findOutputs(name)[name]?.Value).toBeDefined();
  });
});

describe('props', () => {
  const newChannel = (props: ConstructorParameters<typeof XChannel>[2]) => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S', {
      env: { region: 'eu-west-1' },
    });
    return new XChannel(stack, 'C', { prebuiltCode: codeForMissingEntries(), ...props });
  };

  it('reports every bad prop at once, naming each', () => {
    let error: unknown;
    try {
      newChannel({
        pollInterval: Duration.seconds(90),
        xTier: 'gold' as never,
        xAppSecretName: 'a',
        xAppSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:a-AbCdEf',
        adminEmails: ['not-an-email'],
        retention: Duration.days(30),
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(XChannelPropsError);
    const text = (error as XChannelPropsError).problems.join('\n');
    for (const name of ['pollInterval', 'xTier', 'xAppSecretArn', 'adminEmails[0]', 'retention']) {
      expect(text).toContain(name);
    }
    expect((error as XChannelPropsError).problems).toHaveLength(5);
  });

  it.each([
    ['hostedUiDomain', { hostedUiDomain: 'https://auth.example.com' }],
    ['cognitoDomainPrefix', { cognitoDomainPrefix: 'my-aws-console' }],
    ['apiThrottle.burstLimit', { apiThrottle: { burstLimit: 1.5 } }],
    ['apiThrottle.rateLimit', { apiThrottle: { rateLimit: 0 } }],
    ['consoleThrottle.rateLimit', { consoleThrottle: { rateLimit: -1 } }],
    ['consoleThrottle.burstLimit', { consoleThrottle: { burstLimit: 0 } }],
    ['webhookThrottle.burstLimit', { webhookThrottle: { burstLimit: 2.5 } }],
    ['webhookThrottle.rateLimit', { webhookThrottle: { rateLimit: Number.NaN } }],
    ['inboundAgeAlarmThreshold', { inboundAgeAlarmThreshold: Duration.seconds(30) }],
    ['tokenSecretPrefix', { tokenSecretPrefix: 'tokens with spaces/' }],
    ['adminEmails', { adminEmails: ['a@example.com', 'A@example.com'] }],
    ['xAppSecretName', { xAppSecretName: 'bad name' }],
  ] as const)('a bad %s is one problem that names it', (name, props) => {
    // Act
    const problems = (() => {
      try {
        newChannel(props as ConstructorParameters<typeof XChannel>[2]);
      } catch (e) {
        return (e as XChannelPropsError).problems;
      }
      return [];
    })();
    // Assess
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(name);
  });

  it('refuses a region-agnostic stack with a clear reason', () => {
    const stack = new Stack(new App(), 'S');
    expect(() => new XChannel(stack, 'C', { prebuiltCode: codeForMissingEntries() })).toThrow(
      /concrete region/,
    );
  });

  it('tier preset and explicit interval drive the schedule and concurrency', () => {
    // the dispatcher's own schedule (the revocation retry has a fixed one of its own)
    const dispatcherTarget = (c: XChannel) =>
      Match.objectLike({
        Arn: {
          'Fn::GetAtt': [Stack.of(c).getLogicalId(c.functions.dispatcher.node.defaultChild as never), 'Arn'],
        },
      });
    const freeChannel = newChannel({ xTier: 'free' });
    const free = Template.fromStack(Stack.of(freeChannel));
    free.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(15 minutes)',
      Target: dispatcherTarget(freeChannel),
    });
    free.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    const customChannel = newChannel({ pollInterval: Duration.minutes(5) });
    Template.fromStack(Stack.of(customChannel)).hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(5 minutes)',
      Target: dispatcherTarget(customChannel),
    });
  });

  it('standard queues when FIFO is switched off; DESTROY drops deletion protection', () => {
    const t = Template.fromStack(
      Stack.of(newChannel({ inboundFifo: false, outboundFifo: false, removalPolicy: RemovalPolicy.DESTROY })),
    );
    expect(Object.values(t.findResources('AWS::SQS::Queue')).some((q) => q.Properties.FifoQueue)).toBe(false);
    t.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ Replicas: [Match.objectLike({ DeletionProtectionEnabled: false })] }),
    });
  });
});
