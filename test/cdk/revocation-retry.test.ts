/**
 * The scheduled retry of pending revocations (issue 19 item 2; core/revocations.ts) in the template: its
 * schedule invokes the api function (the one that already holds the token secrets' lifecycle), nothing
 * else gains a token permission for it, and the schedule's role may invoke exactly the three ticking
 * functions.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { REVOCATION_RETRY_SOURCE, replacedGrantId } from '../../core/revocations';
import type { HandlerName } from '../../lib/handlers';
import { buildStack } from './build';

const { stack, template } = buildStack();
const idOf = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);
const fnId = (name: HandlerName) => idOf(stack.channel.functions[name]);

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
function statementsOf(roleId: string): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('revocation retry schedule', () => {
  it('invokes the api function every 5 minutes with the retry source, no retries, the schedule role', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [fnId('api'), 'Arn'] },
        Input: JSON.stringify({ source: REVOCATION_RETRY_SOURCE }),
        RetryPolicy: { MaximumEventAgeInSeconds: 300, MaximumRetryAttempts: 0 },
        RoleArn: { 'Fn::GetAtt': [idOf(stack.channel.scheduleRole), 'Arn'] },
      }),
    });
  });

  it('three schedules: dispatcher, real-time watch, revocation retry; the role invokes exactly those functions', () => {
    const targets = Object.values(template.findResources('AWS::Scheduler::Schedule')).map(
      (s) => (s.Properties.Target.Arn as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0],
    );
    expect(targets.sort()).toEqual([fnId('api'), fnId('dispatcher'), fnId('webhook')].sort());
    const invoke = statementsOf(idOf(stack.channel.scheduleRole));
    expect(invoke.flatMap(actions).every((a) => a === 'lambda:InvokeFunction')).toBe(true);
    const invoked = JSON.stringify(invoke.map((s) => s.Resource));
    for (const name of ['api', 'dispatcher', 'webhook'] as const) expect(invoked).toContain(fnId(name));
    for (const name of ['poller', 'sender'] as const) expect(invoked).not.toContain(fnId(name));
  });

  it('the api function is not retried on an asynchronous failure (the next tick redoes it)', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId('api') },
      MaximumRetryAttempts: 0,
    });
  });

  it('a replaced grant is a token secret under the prefix the api may create and delete; the webhook still holds none', () => {
    const prefix = stack.channel.tokenSecretPrefix;
    const id = replacedGrantId('ch_abcdefghijklmnopqrst', new Date(Date.UTC(2026, 0, 1)));
    // Secrets Manager names: letters, digits and /_+=.@- only
    expect(`${prefix}${id}`).toMatch(/^[A-Za-z0-9/_+=.@-]{1,512}$/);
    expect(id).not.toMatch(/^ch_[a-z2-7]{20}$/);
    const api = statementsOf(idOf(stack.channel.functions.api.role!)).filter(
      (s) => s.Effect === 'Allow' && JSON.stringify(s.Resource).includes(`secret:${prefix}*`),
    );
    expect(api.flatMap(actions)).toEqual(
      expect.arrayContaining(['secretsmanager:CreateSecret', 'secretsmanager:DeleteSecret']),
    );
    const webhook = statementsOf(idOf(stack.channel.functions.webhook.role!));
    expect(JSON.stringify(webhook)).not.toContain(`secret:${prefix}`);
    expect(JSON.stringify(webhook)).not.toContain(idOf(stack.channel.key));
  });
});
