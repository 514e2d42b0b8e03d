/**
 * Answers an inbound message from the command line, through the same queues the case system uses.
 *
 *   npx tsx scripts/reply.ts <inbound id> "text" [--key K] [--timeout-seconds 60]
 *   npx tsx scripts/reply.ts --channel <id> --kind reply|dm|post [--target <id>] "text"
 *
 * Reads `.x-channel/local.json` (written by `npm start`), finds the inbound message by peeking the inbound
 * queue (received with visibility 0, so nothing is taken from the case system), sends an
 * `x-channel.outbound.v1` command and waits for its `x-channel.result.v1`, which it prints.
 */
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createAwsClients } from '../adapters/aws/clients';
import {
  OUTBOUND_SCHEMA,
  describeIssues,
  outboundCommandSchema,
  parseInbound,
  parseResult,
  type InboundMessage,
} from '../contracts';

interface LocalJson {
  region: string;
  endpoints: { sqs: string; dynamodb: string; secretsManager: string };
  queues: { inbound: string; outbound: string; results: string };
  /** The key pair the local stand-ins accept. */
  credentials: { accessKeyId: string; secretAccessKey: string };
}

function fail(message: string): never {
  process.stderr.write(`reply: ${message}\n`);
  process.exit(2);
}

function loadLocal(): LocalJson {
  const file = resolve(process.cwd(), '.x-channel/local.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LocalJson;
  } catch {
    return fail('cannot read .x-channel/local.json: run `npm start` first (in this folder)');
  }
}

async function main() {
  // the SDK's Node-20 notice is noise for a local tool (Lambda runs Node 22)
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      channel: { type: 'string' },
      target: { type: 'string' },
      kind: { type: 'string' },
      key: { type: 'string' },
      'timeout-seconds': { type: 'string', default: '60' },
    },
  });
  const explicit = values.channel !== undefined || values.kind !== undefined;
  const text = explicit ? positionals[0] : positionals[1];
  const inboundId = explicit ? undefined : positionals[0];
  if (!text)
    fail(
      'usage: reply.ts <inbound id> "text"  |  reply.ts --channel <id> --kind reply|dm|post [--target <id>] "text"',
    );
  const timeoutMs = Number(values['timeout-seconds']) * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) fail('--timeout-seconds: must be a positive number');

  const local = loadLocal();
  const { sqs } = createAwsClients({
    region: local.region,
    endpoints: local.endpoints,
    credentials: local.credentials,
  });

  let channelId = values.channel;
  let kind = values.kind;
  let targetId = values.target;
  let groupId = '';
  if (inboundId) {
    const inbound = await findInbound(inboundId);
    channelId = inbound.channelId;
    kind = inbound.replyTo.kind;
    targetId = inbound.replyTo.targetId;
    groupId = `${inbound.channelId}:${inbound.conversationId}`;
  }
  const idempotencyKey =
    values.key ??
    `cli:${inboundId ?? targetId ?? 'post'}:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
  const candidate = {
    schema: OUTBOUND_SCHEMA,
    idempotencyKey,
    channelId,
    kind,
    ...(kind === 'post' ? {} : { targetId }),
    text,
  };
  const checked = outboundCommandSchema.safeParse(candidate);
  if (!checked.success) fail(`invalid command: ${describeIssues(checked.error)}`);
  const command = checked.data;

  await sqs.send(
    new SendMessageCommand({
      QueueUrl: local.queues.outbound,
      MessageBody: JSON.stringify(command),
      MessageGroupId: groupId || `${command.channelId}:${'targetId' in command ? command.targetId : 'post'}`,
      MessageDeduplicationId: createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 64),
    }),
  );
  process.stderr.write(`sent ${command.kind} command ${idempotencyKey}; waiting for its result…\n`);

  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: local.queues.results,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 2,
        VisibilityTimeout: 0,
      }),
    );
    for (const m of out.Messages ?? []) {
      const parsed = parseResult(m.Body ?? '');
      if (!parsed.ok || parsed.value.idempotencyKey !== idempotencyKey) continue;
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: local.queues.results, ReceiptHandle: m.ReceiptHandle }),
      );
      process.stdout.write(`${JSON.stringify(parsed.value, null, 2)}\n`);
      process.exit(parsed.value.status === 'sent' ? 0 : 1);
    }
  }
  fail(`no result within ${timeoutMs / 1000} s (is the sender running? npm start runs it)`);

  async function findInbound(id: string): Promise<InboundMessage> {
    // Messages `npm run tail` printed (and took off the queue) are remembered beside local.json.
    let seen = '';
    try {
      seen = readFileSync(resolve('.x-channel', 'inbound-seen.jsonl'), 'utf8');
    } catch {
      /* nothing tailed yet */
    }
    for (const line of seen.split('\n').reverse()) {
      const parsed = line ? parseInbound(line) : undefined;
      if (parsed?.ok && parsed.value.id === id) return parsed.value;
    }
    // Peek: visibility 0 leaves every message for the case system. Several receives, since SQS samples.
    for (let i = 0; i < 20; i++) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: local.queues.inbound,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          VisibilityTimeout: 0,
        }),
      );
      for (const m of out.Messages ?? []) {
        const parsed = parseInbound(m.Body ?? '');
        if (parsed.ok && parsed.value.id === id) return parsed.value;
      }
      if (!out.Messages?.length) break;
    }
    return fail(
      `inbound message ${id} not found on the inbound queue; pass --channel --kind --target instead`,
    );
  }
}

main().catch((e: Error) => fail(`${e.name}: ${e.message}`));
