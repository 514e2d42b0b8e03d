import { httpRoutes } from '../../../local/handlers';
import { buildStack } from '../../cdk/build';

describe('local HTTP routes match the deployed HTTP API', () => {
  it('serves the same route keys with the same authorizer decisions as the CDK stack', () => {
    const { template } = buildStack();
    const deployed = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => {
      const p = r.Properties as { RouteKey: string; AuthorizationType?: string };
      return `${p.RouteKey} ${p.AuthorizationType === 'JWT' ? 'auth' : 'public'}`;
    });
    const local = httpRoutes({}).map((r) => `${r.method} ${r.path} ${r.auth ? 'auth' : 'public'}`);
    expect(local.sort()).toEqual(deployed.sort());
  });
});

describe('local functions match the deployed functions', () => {
  it('runs exactly the entry points and handler exports the CDK construct deploys', async () => {
    const { HANDLERS } = await import('../../../lib/handlers');
    const { FUNCTIONS } = await import('../../../local/handlers');
    expect([...FUNCTIONS].sort()).toEqual(Object.keys(HANDLERS).sort());
    for (const name of FUNCTIONS) {
      const spec = HANDLERS[name as keyof typeof HANDLERS];
      // the local host imports lambdas/<name>/handler.ts and calls its `handler` export
      expect({ name, entry: spec.entry, exportName: spec.exportName }).toEqual({
        name,
        entry: `lambdas/${name}/handler.ts`,
        exportName: 'handler',
      });
    }
  });
});
