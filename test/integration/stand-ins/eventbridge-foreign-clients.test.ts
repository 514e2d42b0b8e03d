/**
 * The EventBridge stand-in through clients this project did not write: Debian's AWS CLI 2.9
 * (`aws events put-events`) and boto3 1.26, both signing with botocore's SigV4 and speaking AWS JSON 1.1.
 * `.ci/run` installs them (`awscli`, `python3-boto3`); without them this file fails and says what to install.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startEventBridge, type EventBridgeStandIn } from '../../../stand-ins/eventbridge';
import { AWS_CLI, foreignClients, PYTHON } from '../../helpers/foreign-clients';

jest.setTimeout(180_000);

let stand: EventBridgeStandIn;
const foreign = foreignClients('xc-foreign-events-', () => ({ EVENTS_ENDPOINT: stand.endpoint }));
const { credentials, run } = foreign;

beforeAll(async () => {
  foreign.start();
  stand = await startEventBridge({ port: 0, credentials, buses: ['care'] });
});
afterAll(async () => {
  await stand?.stop();
  foreign.stop();
});

describe('EventBridge stand-in through the AWS CLI 2.9', () => {
  it('puts events on the default bus and a named one, and reports failed entries beside accepted ones', async () => {
    const entries = path.join(foreign.home, 'entries.json');
    writeFileSync(
      entries,
      JSON.stringify([
        { Source: 'cli.test', DetailType: 'ping', Detail: JSON.stringify({ n: 1, text: 'héllo 🐦' }) },
        { Source: 'cli.test', DetailType: 'ping', Detail: '{"n":2}', EventBusName: 'care' },
        { Source: 'cli.test', DetailType: 'ping', Detail: '[1,2]' },
        { Source: 'cli.test', DetailType: 'ping', Detail: '{}', EventBusName: 'nope' },
      ]),
    );
    const out = await run(AWS_CLI, [
      '--endpoint-url',
      stand.endpoint,
      '--output',
      'json',
      'events',
      'put-events',
      '--entries',
      `file://${entries}`,
    ]);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const answer = JSON.parse(out.stdout) as {
      FailedEntryCount: number;
      Entries: Array<{ EventId?: string; ErrorCode?: string }>;
    };
    expect(answer.FailedEntryCount).toBe(2);
    expect(answer.Entries.map((e) => e.ErrorCode ?? 'ok')).toEqual([
      'ok',
      'ok',
      'MalformedDetail',
      'ResourceNotFoundException',
    ]);
    const ids = answer.Entries.slice(0, 2).map((e) => e.EventId);
    const seen = stand.events().filter((e) => ids.includes(e.id));
    expect(seen.map((e) => [e.eventBusName, e['detail-type'], e.source, e.detail])).toEqual([
      ['default', 'ping', 'cli.test', { n: 1, text: 'héllo 🐦' }],
      ['care', 'ping', 'cli.test', { n: 2 }],
    ]);
  });
});

describe('EventBridge stand-in through boto3 1.26', () => {
  it('accepts a signed put_events, refuses 11 entries with ValidationException and a wrong secret with a signature error', async () => {
    const script = `
import json, os
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
cfg = Config(retries={"max_attempts": 1})
ev = boto3.client("events", endpoint_url=os.environ["EVENTS_ENDPOINT"], config=cfg)
out = {}
r = ev.put_events(Entries=[{"Source": "boto.test", "DetailType": "pong", "Detail": json.dumps({"ok": True})}])
out["put"] = [r["FailedEntryCount"], r["Entries"][0].get("EventId")]
try:
    ev.put_events(Entries=[{"Source": "s", "DetailType": "d", "Detail": "{}"}] * 11)
    out["eleven"] = "accepted"
except ClientError as e:
    out["eleven"] = e.response["Error"]["Code"]
bad = boto3.client("events", endpoint_url=os.environ["EVENTS_ENDPOINT"], config=cfg,
                   aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key="wrong" * 8)
try:
    bad.put_events(Entries=[{"Source": "s", "DetailType": "d", "Detail": "{}"}])
    out["wrongSecret"] = "accepted"
except ClientError as e:
    out["wrongSecret"] = e.response["Error"]["Code"]
print(json.dumps(out))
`;
    const out = await run(PYTHON, ['-c', script]);
    if (out.code !== 0) throw new Error(`boto3 run failed (${out.code}): ${out.stderr}`);
    const answer = JSON.parse(out.stdout) as { put: [number, string]; eleven: string; wrongSecret: string };
    expect(answer.put[0]).toBe(0);
    expect(stand.events().find((e) => e.id === answer.put[1])?.detail).toEqual({ ok: true });
    expect(answer.eleven).toBe('ValidationException');
    expect(answer.wrongSecret).toMatch(/^(InvalidSignatureException|UnrecognizedClientException)$/);
  });
});
