/**
 * Property: whatever body arrives (random JSON, `__proto__` keys, deep nesting, huge strings,
 * non-JSON bytes), the admin API never answers 5xx, and a refused request writes nothing.
 */
import fc from 'fast-check';
import { createApp } from '../../lambdas/api/app';
import { call } from '../unit/api/events';
import { fakeApiDeps } from '../unit/api/deps';

const deep = fc.integer({ min: 1, max: 5000 }).map((n) => '['.repeat(n) + ']'.repeat(n));
const protoKeys = fc
  .record({ key: fc.constantFrom('__proto__', 'constructor', 'prototype'), value: fc.jsonValue() })
  .map(
    ({ key, value }) =>
      `{"listenMentions":true,"listenDms":false,"autoFollow":false,"${key}":${JSON.stringify(value)}}`,
  );
const almostValid = fc
  .record(
    {
      listenMentions: fc.oneof(fc.boolean(), fc.jsonValue()),
      listenDms: fc.oneof(fc.boolean(), fc.jsonValue()),
      autoFollow: fc.oneof(fc.boolean(), fc.jsonValue()),
      name: fc.oneof(
        fc.string(),
        fc.string({ minLength: 90, maxLength: 20_000 }),
        fc.constant(null),
        fc.jsonValue(),
      ),
      options: fc.oneof(
        fc.record(
          { backfillHours: fc.oneof(fc.integer(), fc.double()), includeReposts: fc.jsonValue() },
          { requiredKeys: [] },
        ),
        fc.jsonValue(),
      ),
      paused: fc.jsonValue(),
      version: fc.jsonValue(),
    },
    { requiredKeys: [] },
  )
  .map((o) => JSON.stringify(o));
const body = fc.oneof(
  almostValid,
  protoKeys,
  deep,
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 300 }),
  fc.string({ minLength: 15_000, maxLength: 40_000 }),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
);

describe('admin API never 5xx, never half-writes', () => {
  it('POST /channels', async () => {
    const h = fakeApiDeps();
    const handler = createApp(h.deps);
    await fc.assert(
      fc.asyncProperty(body, async (raw) => {
        const before = h.channels.items.size;
        const res = await call(handler, { method: 'POST', path: '/channels', body: raw });
        expect(res.status).toBeLessThan(500);
        if (res.status === 201) expect(h.channels.items.size).toBe(before + 1);
        else {
          expect(res.headers['content-type']).toBe('application/problem+json');
          expect(h.channels.items.size).toBe(before);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('PATCH /channels/{id}', async () => {
    const h = fakeApiDeps();
    const handler = createApp(h.deps);
    const created = await call(handler, {
      method: 'POST',
      path: '/channels',
      body: { listenMentions: true, listenDms: false, autoFollow: false },
    });
    const id = created.body.id;
    await fc.assert(
      fc.asyncProperty(body, async (raw) => {
        const before = JSON.stringify(h.channels.items.get(id));
        const res = await call(handler, { method: 'PATCH', path: `/channels/${id}`, body: raw });
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expect(JSON.stringify(h.channels.items.get(id))).toBe(before);
      }),
      { numRuns: 300 },
    );
  });

  it('random paths and ids', async () => {
    const h = fakeApiDeps();
    const handler = createApp(h.deps);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE', 'PUT'),
        fc.string({ maxLength: 60 }),
        async (method, seg) => {
          const res = await call(handler, {
            method,
            path: `/channels/${encodeURIComponent(seg)}`,
            body: '{}',
          });
          expect(res.status).toBeLessThan(500);
          expect(h.channels.items.size).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
