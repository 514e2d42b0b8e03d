/**
 * cdk-nag (AwsSolutions + Serverless) over the stack as `bin/app.ts` builds it, and the wiring between
 * the template's function environments and `lib/handlers.ts` (what the handlers' config schemas require).
 */
import { HANDLERS, PLATFORM_ENV, type HandlerName } from '../../lib/handlers';
import { buildStack } from './build';

describe('cdk-nag', () => {
  it('AwsSolutions + Serverless: synth has zero unacknowledged findings (alarm e-mail and admins included)', () => {
    // One synth covers everything: the optional alarm topic and admin users add resources, never remove any.
    const { app } = buildStack(
      { alarmEmail: 'ops@example.com', channel: { adminEmails: ['a@example.com'] } },
      { nag: true },
    );
    let report = '';
    try {
      app.synth();
    } catch (e) {
      // cdk-nag 3 makes synth throw with the report; show it so a new finding is easy to act on.
      report = (e as Error).message;
    }
    expect(report).toBe('');
  });
});

describe('function environment matches lib/handlers.ts', () => {
  const { stack, template } = buildStack();
  const fns = template.findResources('AWS::Lambda::Function');

  it.each(Object.keys(HANDLERS) as HandlerName[])('%s', (name) => {
    const spec = HANDLERS[name];
    const id = stack.getLogicalId(stack.channel.functions[name].node.defaultChild as never);
    const keys = Object.keys(fns[id].Properties.Environment.Variables).sort();
    // Every required variable is set ...
    expect(keys).toEqual(expect.arrayContaining([...spec.requiredEnv]));
    // ... and nothing the handler does not declare (AWS_REGION belongs to Lambda itself).
    const declared = new Set<string>([...spec.requiredEnv, ...spec.optionalEnv, ...PLATFORM_ENV]);
    expect(keys.filter((k) => !declared.has(k))).toEqual([]);
    expect(keys).not.toContain('AWS_REGION');
  });

  it('X_API_BASE_URL and X_AUTHORIZE_URL are left unset in AWS (the handlers default to real X)', () => {
    for (const fn of Object.values(fns)) {
      expect(Object.keys(fn.Properties.Environment.Variables)).not.toEqual(
        expect.arrayContaining(['X_API_BASE_URL']),
      );
      expect(fn.Properties.Environment.Variables.X_AUTHORIZE_URL).toBeUndefined();
    }
  });
});
