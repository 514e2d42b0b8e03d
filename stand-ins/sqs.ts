/**
 * The SQS stand-in: our own in-process SQS (stand-ins/sqs/), bound to 127.0.0.1, answering the JSON
 * and query protocols, with optional persistence across restarts for `npm start`. It behaves as SQS
 * does wherever a consumer can tell (stand-ins/README.md lists what remains different).
 *
 * ```
 * stand-ins/sqs/server.ts          HTTP, protocol detection, snapshots
 *   json-protocol.ts / query-protocol.ts   wire formats  ─┐
 *   actions.ts                     parameter checks  <────┘
 *   store.ts                       queues, messages, dedup, visibility, redrive (own clock)
 *   queue-attributes.ts, md5.ts, errors.ts, snapshot.ts
 * ```
 */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type SQSClient,
  type QueueAttributeName,
} from '@aws-sdk/client-sqs';
import { LOCAL_CREDENTIALS } from '../adapters/aws/clients';
import { dlqAttributes, dlqName, queueAttributes, queueName, type QueueSpec } from '../adapters/aws/queues';
import { checkAwsRequest } from './request-guard';
import { startSqsServer } from './sqs/server';

/** Options for {@link startSqs}. */
export interface SqsOptions {
  /** TCP port on 127.0.0.1; 0 or omitted picks a free one. */
  port?: number;
  /** JSON file the queues and their messages are saved to (on stop and every few seconds when changed). */
  dataFile?: string;
  /** Region used in queue ARNs. @default 'us-east-1' */
  region?: string;
  /** How often a changed state is saved to `dataFile`. @default 2000 */
  snapshotIntervalMs?: number;
  /**
   * The stand-in's clock (epoch ms) for dedup windows, visibility timeouts, delays, retention and
   * timestamps; a test or soak that moves time forward passes its own. Long-poll waits stay in real time.
   * @default Date.now
   */
  now?: () => number;
  /**
   * The only key pair accepted: every request must carry a SigV4 `Authorization` by it, and a
   * loopback `Host` (stand-ins/request-guard.ts). @default LOCAL_CREDENTIALS (`local`/`local`)
   */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** A running SQS stand-in. */
export interface SqsStandIn {
  /** `http://127.0.0.1:<port>` — pass it as the SQS client's `endpoint`. */
  endpoint: string;
  /** Requests answered per wire protocol since start (JSON 1.0 / query). */
  requests: { json: number; query: number };
  /** Saves the state (with `dataFile`) and closes the server. Safe to call twice. */
  stop(): Promise<void>;
  /** Writes the snapshot now (no-op without `dataFile`); the local runtime may call it on demand. */
  save(): void;
}

/** URLs and ARN of a queue and its DLQ, as returned by {@link createQueueWithDlq}. */
export interface QueueWithDlq {
  url: string;
  dlqUrl: string;
  /** ARN of the main queue. */
  arn: string;
}

/**
 * Starts the SQS stand-in on 127.0.0.1. Queue URLs look like `http://127.0.0.1:<port>/000000000000/<name>`,
 * so they stay usable even by a client that sends requests to the QueueUrl's host.
 *
 * @example
 * const sqs = await startSqs({ port: 0, dataFile: '.x-channel/sqs.json' });
 * const client = new SQSClient({ endpoint: sqs.endpoint, region: 'us-east-1', credentials });
 * await sqs.stop();
 */
export async function startSqs(options: SqsOptions = {}): Promise<SqsStandIn> {
  if (
    options.port !== undefined &&
    (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)
  ) {
    throw new RangeError(`port must be an integer 0-65535, got ${String(options.port)}`);
  }
  const server = await startSqsServer({
    port: options.port ?? 0,
    region: options.region ?? 'us-east-1',
    now: options.now,
    dataFile: options.dataFile,
    snapshotIntervalMs: options.snapshotIntervalMs ?? 2000,
    guard: (req, body, dialect) =>
      checkAwsRequest(req, body, { credentials: options.credentials ?? LOCAL_CREDENTIALS, dialect }),
  });
  return {
    endpoint: server.endpoint,
    requests: server.requests,
    save: () => server.save(),
    stop: () => server.stop(),
  };
}

/**
 * Creates a queue and its DLQ from a topology spec (adapters/aws/queues.ts, the definitions the CDK
 * construct uses) through the real client: FIFO attributes (content-based dedup, dedup scope,
 * throughput limit), VisibilityTimeout, MessageRetentionPeriod and a RedrivePolicy with the spec's
 * maxReceiveCount. Idempotent, and converging like a stack update: a queue that exists with other
 * attributes (an older data directory) gets the spec's attributes set.
 *
 * @example
 * const { url, dlqUrl, arn } = await createQueueWithDlq(clients.sqs, QUEUES.inbound, '-t1');
 */
export async function createQueueWithDlq(
  sqs: SQSClient,
  spec: QueueSpec,
  suffix = '',
): Promise<QueueWithDlq> {
  const dlqUrl = await ensureQueue(sqs, dlqName(spec, suffix), dlqAttributes(spec));
  const dlqArn = await queueArn(sqs, dlqUrl);
  const url = await ensureQueue(sqs, queueName(spec, suffix), {
    ...queueAttributes(spec),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: spec.maxReceiveCount }),
  });
  return { url, dlqUrl, arn: await queueArn(sqs, url) };
}

async function ensureQueue(
  sqs: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<string> {
  try {
    const out = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (!out.QueueUrl) throw new Error(`CreateQueue ${name} returned no QueueUrl`);
    return out.QueueUrl;
  } catch (e) {
    if ((e as Error).name !== 'QueueNameExists') throw e;
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    if (!QueueUrl) throw new Error(`GetQueueUrl ${name} returned no QueueUrl`, { cause: e });
    const { FifoQueue: _fifo, ...settable } = attributes;
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: settable }));
    return QueueUrl;
  }
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn' as QueueAttributeName] }),
  );
  const arn = out.Attributes?.QueueArn;
  if (!arn) throw new Error(`GetQueueAttributes returned no QueueArn for ${url}`);
  return arn;
}
