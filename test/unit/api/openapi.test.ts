/** docs/openapi.yaml describes exactly the exported route table, and its request schemas match zod's. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { operations } from '../../../lambdas/api/operations';
import { ROUTES, routesOf } from '../../../lib/routes';
import { requestBodySchemas } from '../../../lambdas/api/schemas';

const doc = parse(readFileSync(path.join(__dirname, '../../../docs/openapi.yaml'), 'utf8'));
const METHODS = ['get', 'post', 'patch', 'delete', 'put'];

function resolve(ref: { $ref?: string } & Record<string, unknown>): any {
  if (!ref.$ref) return ref;
  return ref.$ref
    .replace('#/', '')
    .split('/')
    .reduce((o: any, k) => o[k], doc);
}

describe('docs/openapi.yaml', () => {
  it('is OpenAPI 3.1', () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
  });

  it('has the same method+path set and operationIds as the route table', () => {
    const documented = Object.entries(doc.paths).flatMap(([p, item]: [string, any]) =>
      METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${p} ${item[m].operationId}`),
    );
    const exported = ROUTES.map((r) => `${r.method} ${r.path} ${r.operationId}`);
    expect(documented.sort()).toEqual(exported.sort());
  });

  it('the api function implements exactly the routes the table gives it', () => {
    const implemented = Object.keys(operations);
    const table = routesOf('api').map((r) => r.operationId);
    expect(implemented.sort()).toEqual(table.sort());
  });

  it('marks exactly the public routes as unauthenticated', () => {
    for (const r of ROUTES) {
      const op = doc.paths[r.path][r.method.toLowerCase()];
      const isPublic = Array.isArray(op.security) && op.security.length === 0;
      expect({ route: `${r.method} ${r.path}`, isPublic }).toEqual({
        route: `${r.method} ${r.path}`,
        isPublic: r.auth === 'public',
      });
    }
  });

  it.each(Object.entries(requestBodySchemas))(
    '%s: request body properties and required fields match the zod schema',
    (operationId, schema) => {
      const route = ROUTES.find((r) => r.operationId === operationId)!;
      const op = doc.paths[route.path][route.method.toLowerCase()];
      const documented = resolve(op.requestBody.content['application/json'].schema);
      const generated = z.toJSONSchema(schema as z.core.$ZodType, { io: 'input' }) as any;
      expect(Object.keys(documented.properties ?? {}).sort()).toEqual(
        Object.keys(generated.properties ?? {}).sort(),
      );
      expect((documented.required ?? []).sort()).toEqual((generated.required ?? []).sort());
      expect(documented.additionalProperties).toBe(false);
      expect(generated.additionalProperties).toBe(false);
    },
  );
});
