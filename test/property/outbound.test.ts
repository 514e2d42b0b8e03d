/**
 * Bad input at the outbound door (DESIGN.md "Bad input … nothing half-written. A queue message that can
 * never succeed goes to its DLQ with a reason, after a result."): fast-check bodies through the real
 * sender handler, SQS and DynamoDB stand-ins and the simulated X.
 */
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { useSenderWorld } from '../integration/outbound/harness';

const world = useSenderWorld();

/** SQS itself refuses empty bodies and characters outside #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD (and astral). */
const sqsAllowed = (s: string) =>
  s.length > 0 && /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD]*$/u.test(s.replace(/[\u{10000}-\u{10FFFF}]/gu, ''));
const deepJson = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const validShape = {
  schema: 'x-channel.outbound.v1',
  idempotencyKey: 'prop-key',
  channelId: 'ch_property',
  kind: 'reply',
  targetId: '1234567890',
  text: 'hello',
};

/** Bodies that can never be sent: each must end as a failed result and/or a DLQ entry with a reason. */
const badBody = fc.oneof(
  fc.string({ maxLength: 200 }).filter((s) => {
    try {
      JSON.parse(s);
      return false;
    } catch {
      return true;
    }
  }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.constant(deepJson(3000)),
  fc.constant('{"__proto__":{"polluted":true},"schema":"x-channel.outbound.v1","idempotencyKey":"p1"}'),
  fc
    .record({
      field: fc.constantFrom(
        'schema',
        'idempotencyKey',
        'channelId',
        'kind',
        'targetId',
        'text',
        'mediaUrls',
      ),
      value: fc.oneof(
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(fc.string(), { maxLength: 3 }),
        fc.string({ minLength: 129, maxLength: 400 }),
        fc.constant('x'.repeat(60_000)),
        fc.constant('\u202E\uFEFF\u200B👩\u200D👩\u200D👧 e\u0301'),
      ),
      n: fc.nat(1_000_000),
    })
    .map(({ field, value, n }) =>
      JSON.stringify({ ...validShape, idempotencyKey: `prop-${n}`, [field]: value }),
    ),
  fc.string({ minLength: 1, maxLength: 20 }).map((s) => JSON.stringify({ ...validShape, kind: `not-${s}` })),
);

async function drainDlq(): Promise<Array<{ body: string; reason: string | undefined }>> {
  const { aws, h } = world;
  const out: Array<{ body: string; reason: string | undefined }> = [];
  for (;;) {
    const r = await aws.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: h.queues.outbound.dlqUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
      }),
    );
    if (!r.Messages?.length) return out;
    for (const m of r.Messages) {
      out.push({ body: m.Body ?? '', reason: m.MessageAttributes?.reason?.StringValue });
      await aws.clients.sqs.send(
        new DeleteMessageCommand({ QueueUrl: h.queues.outbound.dlqUrl, ReceiptHandle: m.ReceiptHandle }),
      );
    }
  }
}

it('rule "bad input … nothing half-written": every unsendable outbound body ends as a failed result or a DLQ entry with a reason, nothing posted, no crash loop', async () => {
  const { sim, h } = world;
  const postsBefore = sim.state.tweets.length + sim.state.dms.length;
  await fc.assert(
    fc.asyncProperty(badBody.filter(sqsAllowed), async (body) => {
      // Act
      await h.send(body, 'prop-group');
      await h.drain(); // throws when the message keeps coming back (a crash loop)
      const results = await h.results();
      const dlq = await drainDlq();
      // Assess: told somewhere, with a reason; every result is a failure
      expect(results.length + dlq.length).toBeGreaterThan(0);
      for (const r of results) {
        expect(r.status).toBe('failed');
        if (r.status !== 'failed') continue;
        expect(r.error.code).toEqual(expect.any(String));
        expect(r.error.message.length).toBeGreaterThan(0);
      }
      for (const d of dlq) expect(d.reason ?? '').not.toBe('');
    }),
    { numRuns: 40, seed: Number(process.env.XC_PROPERTY_SEED ?? 4242), verbose: 1 },
  );
  // Nothing reached X, and nothing was polluted through a `__proto__` key.
  expect(sim.state.tweets.length + sim.state.dms.length).toBe(postsBefore);
  expect(h.xRequests.filter((r) => r.startsWith('POST'))).toEqual([]);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});
