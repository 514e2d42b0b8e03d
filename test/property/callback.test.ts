/**
 * Bad input at the OAuth callback door (DESIGN.md "Tokens": `state` bound to the admin's start request,
 * single use, short TTL; "Bad input … nothing half-written"): fast-check callback queries through the real
 * admin API handler, DynamoDB and Secrets Manager stand-ins and the simulated X. Every one answers a 4xx
 * HTML page and writes nothing durable.
 */
import fc from 'fast-check';
import {
  authorize,
  callback,
  createChannel,
  durableItems,
  startWorld,
  type World,
} from '../integration/sign-in/harness';

let w: World;
beforeAll(async () => {
  w = await startWorld();
});
afterAll(async () => {
  await w.stop();
});

const text = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ minLength: 600, maxLength: 2000 }),
  fc.constantFrom(
    '__proto__',
    'constructor',
    '../../etc',
    '%00',
    '\u202E',
    '👩‍👩‍👧',
    "'; DROP TABLE x;--",
    '<script>',
  ),
);

it('rule "state bound to the admin start request, single use": every forged, replayed or refused callback answers a 4xx page and writes nothing', async () => {
  // Prepare: one real pending sign-in, so some queries carry a live state (with the wrong code/cookie)
  const channel = await createChannel(w);
  const real = await authorize(w, channel.id);
  const before = await durableItems(w);

  const query = fc.oneof(
    fc.record({ state: text, code: text }, { requiredKeys: [] }),
    fc.record({ state: fc.constant(real.state), code: text }),
    fc.record({
      state: fc.constant(real.state),
      error: fc.constantFrom('access_denied', 'server_error'),
      error_description: text,
    }),
    fc.record({ state: text, code: text, extra: text }),
    fc.dictionary(text, text, { maxKeys: 4 }),
  );
  const cookie = fc.option(
    fc.oneof(
      fc.constant(real.cookie),
      text.map((t) => `xc_oauth=${encodeURIComponent(t)}`),
    ),
    { nil: undefined },
  );

  await fc.assert(
    fc.asyncProperty(query, cookie, async (q, c) => {
      // Act
      const res = await callback(
        w,
        new URLSearchParams(q as Record<string, string>).toString(),
        c ? [c] : undefined,
      );
      // Assess: a refusal page in words, never a 2xx/5xx
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(String(res.headers?.['content-type'] ?? res.headers?.['Content-Type'] ?? '')).toContain(
        'text/html',
      );
    }),
    { numRuns: 60, seed: Number(process.env.XC_PROPERTY_SEED ?? 777), verbose: 1 },
  );

  // Nothing durable was written (states and leases aside), and the channel is still waiting for sign-in.
  expect(await durableItems(w)).toBe(before);
  const after = await w.api({ method: 'GET', path: `/channels/${channel.id}` });
  expect(after.body.status).toBe('pending_auth');
});
