/**
 * docs/asyncapi.yaml is a valid AsyncAPI 3 document that names the three queues and the three contracts,
 * and the EventBridge alert events with their detail's schema (the alert contract: contracts/alert.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser, fromFile } from '@asyncapi/parser';

const file = join(__dirname, '..', '..', 'docs', 'asyncapi.yaml');

describe('docs/asyncapi.yaml', () => {
  it('parses and validates with the AsyncAPI parser, with no errors', async () => {
    const parser = new Parser();
    const { document, diagnostics } = await fromFile(parser, file).parse();
    const errors = diagnostics
      .filter((d) => d.severity === 0)
      .map((d) => `${d.path.join('.')}: ${d.message}`);
    expect(errors).toEqual([]);
    expect(document).toBeDefined();
    expect(document!.version()).toBe('3.0.0');
    expect(
      document!
        .channels()
        .all()
        .map((c) => c.id())
        .sort(),
    ).toEqual(['alerts', 'inbound', 'outbound', 'results']);
    const names = document!
      .components()
      .messages()
      .all()
      .map((m) => m.name());
    expect(names.sort()).toEqual([
      'x-channel.alert.v1',
      'x-channel.inbound.v1',
      'x-channel.outbound.v1',
      'x-channel.result.v1',
    ]);
    // the queues on SQS, the alerts on EventBridge only
    const serversOf = (id: string) =>
      document!
        .channels()
        .get(id)!
        .servers()
        .all()
        .map((s) => s.id())
        .sort();
    expect(serversOf('alerts')).toEqual(['eventbridge']);
    for (const id of ['inbound', 'outbound', 'results']) expect(serversOf(id)).toEqual(['aws', 'local']);
  });

  it('points each message at the generated JSON Schema file', () => {
    const text = readFileSync(file, 'utf8');
    for (const name of ['inbound.v1.json', 'outbound.v1.json', 'result.v1.json', 'alert.v1.json'])
      expect(text).toContain(`../schemas/${name}`);
  });
});
