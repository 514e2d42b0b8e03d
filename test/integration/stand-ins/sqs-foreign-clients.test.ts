/**
 * The SQS stand-in through clients this project did not write: Debian's AWS CLI 2.9 and boto3 1.26,
 * which speak SQS's query protocol (form-encoded requests, XML answers). `.ci/run` installs them
 * (`awscli`, `python3-boto3`); without them this file fails and says what to install.
 */
import { randomBytes } from 'node:crypto';
import { startSqs, type SqsStandIn } from '../../../stand-ins/sqs';
import { AWS_CLI, foreignClients, PYTHON } from '../../helpers/foreign-clients';

let stand: SqsStandIn;
const foreign = foreignClients('xc-foreign-', () => ({ SQS_ENDPOINT: stand.endpoint }));
const { credentials, run } = foreign;

async function aws(...args: string[]): Promise<Record<string, unknown>> {
  const out = await run(AWS_CLI, ['--endpoint-url', stand.endpoint, '--output', 'json', 'sqs', ...args]);
  if (out.code !== 0) throw new Error(`aws sqs ${args[0]} failed (${out.code}): ${out.stderr}`);
  return out.stdout.trim() ? (JSON.parse(out.stdout) as Record<string, unknown>) : {};
}

beforeAll(async () => {
  foreign.start();
  stand = await startSqs({ port: 0, credentials });
});
afterAll(async () => {
  await stand?.stop();
  foreign.stop();
});

describe('SQS stand-in through the AWS CLI 2.9 (query protocol)', () => {
  it('creates and lists queues, sends, receives with attribute names, deletes, dedups a FIFO send and names errors', async () => {
    const name = `cli-${randomBytes(3).toString('hex')}`;
    const before = stand.requests.query;

    const { QueueUrl: url } = (await aws('create-queue', '--queue-name', name)) as { QueueUrl: string };
    const listed = (await aws('list-queues', '--queue-name-prefix', name)) as { QueueUrls: string[] };
    const sent = await aws(
      'send-message',
      '--queue-url',
      url,
      '--message-body',
      'héllo & <world> 🐦',
      '--message-attributes',
      '{"kind":{"DataType":"String","StringValue":"mention"},"other":{"DataType":"Number","StringValue":"7"}}',
    );
    const got = (await aws(
      'receive-message',
      '--queue-url',
      url,
      '--message-attribute-names',
      'kind',
      '--attribute-names',
      'ApproximateReceiveCount',
    )) as { Messages: Array<Record<string, unknown>> };
    const m = got.Messages[0];
    await aws('delete-message', '--queue-url', url, '--receipt-handle', String(m.ReceiptHandle));
    const after = await aws('get-queue-attributes', '--queue-url', url, '--attribute-names', 'All');

    const { QueueUrl: fifoUrl } = (await aws(
      'create-queue',
      '--queue-name',
      `${name}.fifo`,
      '--attributes',
      'FifoQueue=true,DeduplicationScope=messageGroup,FifoThroughputLimit=perMessageGroupId',
    )) as { QueueUrl: string };
    const fifoSend = () =>
      aws(
        'send-message',
        '--queue-url',
        fifoUrl,
        '--message-body',
        'once',
        '--message-group-id',
        'g',
        '--message-deduplication-id',
        'd1',
      );
    const f1 = await fifoSend();
    const f2 = await fifoSend();
    const missing = await run(AWS_CLI, [
      '--endpoint-url',
      stand.endpoint,
      'sqs',
      'get-queue-url',
      '--queue-name',
      `${name}-missing`,
    ]);

    expect(listed.QueueUrls).toEqual([url]);
    expect(sent).toMatchObject({ MessageId: expect.any(String), MD5OfMessageBody: expect.any(String) });
    expect(m.Body).toBe('héllo & <world> 🐦');
    expect(m.MessageAttributes).toEqual({ kind: { DataType: 'String', StringValue: 'mention' } });
    expect(m.Attributes).toEqual({ ApproximateReceiveCount: '1' });
    expect((after.Attributes as Record<string, string>).ApproximateNumberOfMessages).toBe('0');
    expect(f2.MessageId).toBe(f1.MessageId);
    expect(f1.SequenceNumber).toEqual(expect.any(String));
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('AWS.SimpleQueueService.NonExistentQueue');
    expect(stand.requests.query - before).toBeGreaterThanOrEqual(10);
  }, 180_000);
});

const BOTO3_SCRIPT = String.raw`
import json, os, boto3, botocore
sqs = boto3.client("sqs", endpoint_url=os.environ["SQS_ENDPOINT"], region_name="us-east-1")
out = {"botocore": botocore.__version__}
url = sqs.create_queue(QueueName="boto-q")["QueueUrl"]
out["listed"] = sqs.list_queues(QueueNamePrefix="boto-")["QueueUrls"]
sqs.send_message(QueueUrl=url, MessageBody="line1\r\nline2", MessageAttributes={
    "kind": {"DataType": "String", "StringValue": "dm"},
    "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}})
plain = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]
asked = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], AttributeNames=["SentTimestamp"])["Messages"][0]
out["plain_keys"] = sorted(plain.keys())
out["asked"] = {"body": asked["Body"], "attrs": asked["Attributes"], "kinds": sorted(asked["MessageAttributes"]),
                "blob": list(asked["MessageAttributes"]["blob"]["BinaryValue"])}
sqs.delete_message(QueueUrl=url, ReceiptHandle=asked["ReceiptHandle"])
batch = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "1"}, {"Id": "b", "MessageBody": "2"}])
out["batch_ok"] = sorted(e["Id"] for e in batch["Successful"])
fifo = sqs.create_queue(QueueName="boto-q.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
a = sqs.send_message(QueueUrl=fifo, MessageBody="same", MessageGroupId="g")
b = sqs.send_message(QueueUrl=fifo, MessageBody="same", MessageGroupId="g")
out["fifo_same_id"] = a["MessageId"] == b["MessageId"]
for name, call in [("missing", lambda: sqs.get_queue_url(QueueName="boto-missing")),
                   ("bad_handle", lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle="nonsense")),
                   ("no_group", lambda: sqs.send_message(QueueUrl=fifo, MessageBody="x"))]:
    try:
        call()
        out[name] = None
    except botocore.exceptions.ClientError as e:
        out[name] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
print(json.dumps(out))
`;

describe('SQS stand-in through boto3 1.26 (query protocol)', () => {
  it('answers the calls a consumer makes, with AWS error codes', async () => {
    const before = stand.requests.query;
    const res = await run(PYTHON, ['-c', BOTO3_SCRIPT]);
    if (res.code !== 0) throw new Error(`boto3 script failed (${res.code}): ${res.stderr}`);
    const out = JSON.parse(res.stdout) as Record<string, unknown>;

    expect(out.listed).toEqual([`${stand.endpoint}/000000000000/boto-q`]);
    expect(out.plain_keys).toEqual(['Body', 'MD5OfBody', 'MessageId', 'ReceiptHandle']);
    expect(out.asked).toEqual({
      body: 'line1\r\nline2',
      attrs: { SentTimestamp: expect.stringMatching(/^\d+$/) },
      kinds: ['blob', 'kind'],
      blob: [0, 1],
    });
    expect(out.batch_ok).toEqual(['a', 'b']);
    expect(out.fifo_same_id).toBe(true);
    expect(out.missing).toEqual(['AWS.SimpleQueueService.NonExistentQueue', 400]);
    expect(out.bad_handle).toEqual(['ReceiptHandleIsInvalid', 404]);
    expect(out.no_group).toEqual(['MissingParameter', 400]);
    expect(stand.requests.query - before).toBeGreaterThanOrEqual(12);
  }, 120_000);
});
