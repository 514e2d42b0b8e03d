/**
 * Contract tests: the committed JSON Schemas are exactly what the zod contracts generate, fixtures
 * validate against the committed files (what a consumer in another language would use), and v1 stays
 * backward compatible.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { renderSchemas } from '../../contracts/json-schema';
import { parseInbound, parseOutbound, parseResult } from '../../contracts';
import { ALERT_EVENT_KINDS } from '../../contracts/alert';
import { alertEventDetail } from '../../adapters/aws/eventbridge-alerts';
import { ALERT_KINDS } from '../../core/alerts/conditions';
import type { AlertRecord } from '../../core/alerts/evaluate';
import { alertDetailProblems } from '../helpers/alert-contract';

const root = join(__dirname, '..', '..');
const fixtures = join(__dirname, '..', 'fixtures', 'contracts');
const load = (name: string) => JSON.parse(readFileSync(join(root, 'schemas', name), 'utf8'));

describe('schemas/', () => {
  it('matches what the zod contracts generate (run `npm run schemas` after changing contracts/)', () => {
    for (const [file, text] of Object.entries(renderSchemas())) {
      expect({ file, text: readFileSync(join(root, 'schemas', file), 'utf8') }).toEqual({ file, text });
    }
  });

  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const validators = {
    inbound: ajv.compile(load('inbound.v1.json')),
    outbound: ajv.compile(load('outbound.v1.json')),
    result: ajv.compile(load('result.v1.json')),
  };

  it.each(readdirSync(fixtures).map((f) => [f]))(
    'fixture %s validates against the committed schema and zod',
    (file) => {
      const text = readFileSync(join(fixtures, file), 'utf8');
      const kind = file.split('-')[0] as keyof typeof validators;
      const ok = validators[kind](JSON.parse(text));
      expect(validators[kind].errors ?? []).toEqual([]);
      expect(ok).toBe(true);
      const parse = { inbound: parseInbound, outbound: parseOutbound, result: parseResult }[kind];
      expect(parse(text)).toMatchObject({ ok: true });
    },
  );

  const base = JSON.parse(readFileSync(join(fixtures, 'outbound-reply.json'), 'utf8'));
  it.each([
    ['unknown field', { ...base, priority: 'high' }, 'priority'],
    ['missing targetId on reply', { ...base, targetId: undefined }, 'targetId'],
    ['targetId on a plain post', { ...base, kind: 'post' }, 'targetId'],
    ['empty idempotency key', { ...base, idempotencyKey: '' }, 'idempotencyKey'],
    ['129-char idempotency key', { ...base, idempotencyKey: 'k'.repeat(129) }, 'idempotencyKey'],
    ['wrong schema version', { ...base, schema: 'x-channel.outbound.v2' }, 'schema'],
    ['non-numeric tweet id', { ...base, targetId: 'abc' }, 'targetId'],
  ])('refuses an outbound command with %s, naming the field', (_name, body, field) => {
    const res = parseOutbound(JSON.stringify(body));
    expect(res.ok).toBe(false);
    expect(res.ok ? '' : res.error).toContain(field);
    expect(validators.outbound(body)).toBe(false);
  });

  it('refuses a body that is not JSON with a clear message', () => {
    expect(parseOutbound('{not json')).toEqual({ ok: false, error: 'body is not valid JSON' });
  });

  it('keeps the v1 fields a consumer relies on (breaking v1 fails here)', () => {
    const inbound = load('inbound.v1.json');
    expect(inbound.required.sort()).toEqual(
      [
        'schema',
        'id',
        'channelId',
        'account',
        'kind',
        'conversationId',
        'author',
        'text',
        'createdAt',
        'inReplyToId',
        'attachments',
        'replyTo',
        'receivedAt',
      ].sort(),
    );
    const result = load('result.v1.json');
    const variants = result.oneOf.map((v: { required: string[] }) => v.required.sort());
    expect(variants).toEqual([
      ['at', 'channelId', 'idempotencyKey', 'schema', 'status', 'xId'],
      ['at', 'channelId', 'error', 'idempotencyKey', 'schema', 'status'],
    ]);
  });
});

describe('schemas/alert.v1.json (docs/asyncapi.yaml x-channel.alert.v1)', () => {
  it('names exactly the kinds the alert conditions fire', () => {
    expect([...ALERT_EVENT_KINDS].sort()).toEqual([...ALERT_KINDS].sort());
  });

  it('accepts the detail the EventBridge publisher builds, opened and cleared, and refuses a wrong one', () => {
    const alert: AlertRecord = {
      state: 'open',
      pending: null,
      leaseUntil: null,
      id: 'budget_warning:app',
      kind: 'budget_warning',
      severity: 'warning',
      channelId: null,
      title: 'The app used 85 % of its monthly X budget',
      text: 'Raise the budget or expect budget_exhausted at 100 %.',
      facts: { usedPercent: 85, monthlyBudgetUsd: 10, scope: 'app', over: false, reasonCode: null },
      consoleUrl: 'https://console.example/',
      openedAt: '2026-12-07T10:00:00.000Z',
      clearedAt: '2026-12-07T11:00:00.000Z',
    };
    const opened = alertEventDetail({ type: 'opened', alert }, 'XChannel/XChannel');
    const cleared = alertEventDetail({ type: 'cleared', alert }, 'XChannel/XChannel');
    expect(alertDetailProblems(opened)).toEqual([]);
    expect(alertDetailProblems(cleared)).toEqual([]);
    expect(alertDetailProblems({ ...opened, kind: 'made_up' })).toEqual([expect.stringContaining('/kind')]);
    expect(alertDetailProblems({ ...opened, facts: { nested: { no: 1 } } })[0]).toContain('/facts');
  });
});
