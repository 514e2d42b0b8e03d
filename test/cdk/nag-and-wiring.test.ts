/**
 * cdk-nag (AwsSolutions + Serverless) over the stack as `bin/app.ts` builds it, and the wiring between
 * the template's function environments and `lib/handlers.ts` (what the handlers' config schemas require).
 */
import { HANDLERS, PLATFORM_ENV, type HandlerName } from '../../lib/handlers';
import { buildStack } from './build';

describe('cdk-nag', () => {
  it('AwsSolutions + Serverless: synth has zero unacknowledged findings (alarm and alert e-mail and admins included)', () => {
    // One synth covers everything: the optional alarm and alert topics and admin users add resources, never remove any.
    const { app } = buildStack(
      {
        alarmEmail: 'ops@example.com',
        channel: { adminEmails: ['a@example.com'], alertEmail: 'alerts@example.com' },
      },
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

describe('HTTP API routes match the route table (lib/routes.ts)', () => {
  it('same method + path pairs, and the JWT authorizer exactly where the handler expects auth', async () => {
    const { ROUTES } = await import('../../lib/routes');
    const { template } = buildStack();
    const deployed = Object.values(template.findResources('AWS::ApiGatewayV2::Route'))
      .map((r) => `${r.Properties.RouteKey} auth=${r.Properties.AuthorizationType === 'JWT'}`)
      .sort();
    const expected = ROUTES.map((r) => `${r.method} ${r.path} auth=${r.auth === 'admin'}`).sort();
    expect(deployed).toEqual(expected);
  });
});

describe("the handlers' config schemas accept what the template sets", () => {
  const schemas = async () => ({
    api: (await import('../../lambdas/api/config')).apiEnvSchema,
    dispatcher: (await import('../../lambdas/dispatcher/config')).dispatcherEnvSchema,
    poller: (await import('../../lambdas/poller/config')).pollerEnvSchema,
    sender: (await import('../../lambdas/sender/config')).senderEnvSchema,
    webhook: (await import('../../lambdas/webhook/config')).webhookEnvSchema,
  });
  const { stack, template } = buildStack();
  const fns = template.findResources('AWS::Lambda::Function');

  it.each(Object.keys(HANDLERS) as HandlerName[])(
    '%s: every variable its schema requires is set (AWS_REGION comes from Lambda)',
    async (name) => {
      const shape = (await schemas())[name].shape as Record<
        string,
        { safeParse(v: unknown): { success: boolean } }
      >;
      const required = Object.keys(shape).filter((key) => !shape[key].safeParse(undefined).success);
      const id = stack.getLogicalId(stack.channel.functions[name].node.defaultChild as never);
      const set = Object.keys(fns[id].Properties.Environment.Variables);
      expect(required.filter((key) => key !== 'AWS_REGION' && !set.includes(key))).toEqual([]);
    },
  );
});

describe("the template's values parse with the handlers' real schemas", () => {
  type Schema = {
    shape: Record<string, unknown>;
    safeParse(v: unknown): { success: boolean; error?: { issues: Array<{ path: PropertyKey[] }> } };
  };
  const schemas = async (): Promise<Record<HandlerName, Schema[]>> => {
    const consoleSchema = (await import('../../console/serve')).consoleEnvSchema;
    return {
      // The API function also serves the console (console/serve.ts reads its own variables).
      api: [(await import('../../lambdas/api/config')).apiEnvSchema, consoleSchema],
      dispatcher: [(await import('../../lambdas/dispatcher/config')).dispatcherEnvSchema],
      poller: [(await import('../../lambdas/poller/config')).pollerEnvSchema],
      sender: [(await import('../../lambdas/sender/config')).senderEnvSchema],
      webhook: [(await import('../../lambdas/webhook/config')).webhookEnvSchema],
    } as unknown as Record<HandlerName, Schema[]>;
  };
  const { stack, template } = buildStack();
  const fns = template.findResources('AWS::Lambda::Function');
  /** The function's variables; values only known at deploy time (Ref, Fn::Join ...) become a URL. */
  const envOf = (name: HandlerName): Record<string, string> => {
    const id = stack.getLogicalId(stack.channel.functions[name].node.defaultChild as never);
    const vars = fns[id].Properties.Environment.Variables as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(vars).map(([k, v]) => [k, typeof v === 'string' ? v : 'https://deploy-time.example']),
    );
  };

  it.each(Object.keys(HANDLERS) as HandlerName[])(
    '%s: every schema accepts the values the template sets (literal values checked as they are)',
    async (name) => {
      const env = { AWS_REGION: 'eu-west-1', ...envOf(name) };
      for (const schema of (await schemas())[name]) {
        const result = schema.safeParse(env);
        expect(result.error?.issues.map((i) => i.path.join('.')) ?? []).toEqual([]);
      }
    },
  );

  it.each(Object.keys(HANDLERS) as HandlerName[])(
    '%s: every variable the template sets is read by a schema of the function (no renamed leftovers)',
    async (name) => {
      const known = new Set((await schemas())[name].flatMap((s) => Object.keys(s.shape)));
      const platform = new Set<string>(PLATFORM_ENV);
      const unread = Object.keys(envOf(name)).filter((k) => !platform.has(k) && !known.has(k));
      expect(unread).toEqual([]);
    },
  );

  it('api: the console runs in Cognito mode with the names console/serve.ts reads', async () => {
    const { createConsoleServer } = await import('../../console/serve');
    const env = envOf('api');
    expect(env.AUTH_MODE).toBe('cognito');
    expect(env.COGNITO_DOMAIN).toBeDefined();
    expect(env.COGNITO_CLIENT_ID).toBeDefined();
    expect(env.CONSOLE_DIST_DIR).toBe('/var/task/console/dist');
    const serve = createConsoleServer({
      env,
      loadBundle: () => Promise.reject(new Error('not needed for config.json')),
    });
    const res = (await serve({
      rawPath: '/assets/config.json',
      pathParameters: { proxy: 'config.json' },
      requestContext: { http: { method: 'GET' } },
    } as never)) as { statusCode: number; body: string };
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual({
      authMode: 'cognito',
      cognito: { domain: 'https://deploy-time.example', clientId: 'https://deploy-time.example' },
    });
  });
});
