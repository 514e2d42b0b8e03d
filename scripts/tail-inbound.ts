/**
 * Prints inbound messages as they arrive, for a person watching a local run:
 *   npx tsx scripts/tail-inbound.ts [--keep]
 * Reads `.x-channel/local.json` (written by `npm start`) for the SQS endpoint and the inbound queue,
 * long-polls it and prints one line per message. Messages are deleted after printing (you are the
 * case system now) unless `--keep` is given, which leaves them for the real consumer. Each message
 * printed is also appended to `.x-channel/inbound-seen.jsonl`, where `npm run reply` finds it.
 */
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseInbound } from '../contracts';

interface LocalJson {
  region: string;
  endpoints: { sqs: string };
  queues: { inbound: string };
  /** The key pair the local stand-ins accept. */
  credentials: { accessKeyId: string; secretAccessKey: string };
}

function readLocalJson(): LocalJson {
  const file = path.resolve('.x-channel', 'local.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LocalJson;
  } catch {
    throw new Error(`cannot read ${file}: start x-channel first with \`npm start\``);
  }
}

/** Where printed messages are remembered for `scripts/reply.ts`. */
export const SEEN_FILE = path.resolve('.x-channel', 'inbound-seen.jsonl');

async function main() {
  // the SDK's Node-20 notice is noise for a local tool (Lambda runs Node 22)
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const keep = process.argv.includes('--keep');
  const local = readLocalJson();
  const sqs = new SQSClient({
    region: local.region,
    endpoint: local.endpoints.sqs,
    // never send the queue URL's host as the endpoint (LOCAL-STACK.md §2)
    useQueueUrlAsEndpoint: false,
    // the key pair the local stand-ins accept, random per data directory
    credentials: local.credentials,
  });
  process.stdout.write(
    `tailing ${local.queues.inbound}${keep ? ' (keeping messages)' : ''}; Ctrl-C to stop\n`,
  );
  let stop = false;
  process.on('SIGINT', () => {
    stop = true;
  });
  while (!stop) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: local.queues.inbound,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 10,
        VisibilityTimeout: keep ? 0 : 30,
      }),
    );
    for (const m of out.Messages ?? []) {
      const parsed = parseInbound(m.Body ?? '');
      if (parsed.ok) {
        const v = parsed.value;
        const media = v.attachments.length ? ` [+${v.attachments.length} media]` : '';
        process.stdout.write(
          `${v.createdAt} ${v.kind.padEnd(7)} @${v.author.username || v.author.id} → @${v.account.username} ` +
            `(${v.id}, conversation ${v.conversationId}): ${v.text.replace(/\s+/g, ' ')}${media}\n`,
        );
        // owner-only, like everything in .x-channel/ (it holds customers' messages)
        appendFileSync(SEEN_FILE, `${JSON.stringify(v)}\n`, { mode: 0o600 });
      } else {
        process.stdout.write(`(not an inbound v1 message: ${parsed.error})\n`);
      }
      if (!keep)
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: local.queues.inbound, ReceiptHandle: m.ReceiptHandle }),
        );
    }
  }
  sqs.destroy();
}

main().catch((e: Error) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
