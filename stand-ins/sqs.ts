/**
 * The SQS stand-in: fauxqs 1.9.2 in-process (LOCAL-STACK.md §2, 16/16 behavioural checks), bound to
 * 127.0.0.1, with optional persistence across restarts for `npm start`.
 *
 * fauxqs 1.9.2 keeps everything in memory and its `startFauxqs()` listens on 0.0.0.0 with no access
 * to its store. We therefore build the app with `buildApp()` around our own `SqsStore` instance and
 * listen on loopback ourselves. Holding the store lets the snapshot keep what matters to consumers:
 * message ids, ApproximateReceiveCount (so a poison message still reaches its DLQ after
 * maxReceiveCount receives in total, not per restart), FIFO order and sequence numbers, and the
 * dedup ids of messages still queued. Messages that were in flight become visible again on restore,
 * which is what SQS does when their visibility timeout ends anyway. The store is a fauxqs internal,
 * so the exact version is checked at start-up; the integration tests pin this behaviour.
 */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type SQSClient,
  type QueueAttributeName,
} from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dlqName, queueName, type QueueSpec } from '../adapters/aws/queues';

/** Options for {@link startSqs}. */
export interface SqsOptions {
  /** TCP port on 127.0.0.1; 0 or omitted picks a free one. */
  port?: number;
  /** JSON file the queues and their messages are saved to (on stop and every few seconds when changed). */
  dataFile?: string;
  /** Region used in queue ARNs when a request does not name one. @default 'us-east-1' */
  region?: string;
  /** How often a changed state is saved to `dataFile`. @default 2000 */
  snapshotIntervalMs?: number;
}

/** A running SQS stand-in. */
export interface SqsStandIn {
  /** `http://127.0.0.1:<port>` — pass it as the SQS client's `endpoint`. */
  endpoint: string;
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

const FAUXQS_VERSION = '1.9.2';
const ACCOUNT_ID = '000000000000';
const SNAPSHOT_VERSION = 1;

// The parts of fauxqs's internal store we rely on (dist/sqs/sqsStore.js in 1.9.2).
interface FauxMessage {
  messageId: string;
  sentTimestamp: number;
  messageGroupId?: string;
  messageDeduplicationId?: string;
  sequenceNumber?: string;
  delayUntil?: number;
  [key: string]: unknown;
}
interface FauxQueue {
  name: string;
  arn: string;
  attributes: Record<string, string>;
  tags: Map<string, string>;
  createdTimestamp: number;
  lastModifiedTimestamp: number;
  sequenceCounter: number;
  isFifo(): boolean;
  inspectMessages(): { ready: FauxMessage[]; delayed: FauxMessage[]; inflight: { message: FauxMessage }[] };
  enqueue(msg: FauxMessage): void;
  recordDeduplication(dedupId: string, messageId: string, sequenceNumber?: string): void;
}
interface FauxStore {
  host: string;
  region?: string;
  listQueues(): FauxQueue[];
  createQueue(
    name: string,
    url: string,
    arn: string,
    attributes?: Record<string, string>,
    tags?: Record<string, string>,
  ): FauxQueue;
}
interface FastifyLike {
  listen(opts: { port: number; host: string }): Promise<string>;
  close(): Promise<void>;
}

interface QueueSnapshot {
  name: string;
  arn: string;
  attributes: Record<string, string>;
  tags: Record<string, string>;
  createdTimestamp: number;
  lastModifiedTimestamp: number;
  sequenceCounter: number;
  /** In delivery order: FIFO by sequence number, standard by send time. */
  messages: FauxMessage[];
}
interface Snapshot {
  version: number;
  queues: QueueSnapshot[];
}

/** Finds the installed fauxqs package directory (its `exports` map hides package.json from require.resolve). */
function fauxqsDir(): string {
  for (const base of require.resolve.paths('fauxqs') ?? []) {
    const dir = path.join(base, 'fauxqs');
    if (existsSync(path.join(dir, 'package.json'))) return dir;
  }
  throw new Error('the fauxqs package is not installed; run npm ci');
}

async function loadFauxqs(): Promise<{
  buildApp: (o: object) => FastifyLike;
  SqsStore: new () => FauxStore;
}> {
  const dir = fauxqsDir();
  const { version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string };
  if (version !== FAUXQS_VERSION) {
    throw new Error(
      `stand-ins/sqs.ts relies on fauxqs ${FAUXQS_VERSION} internals, but ${version} is installed`,
    );
  }
  // Absolute paths (not file: URLs) so that both native import (tsx) and jest's require work.
  const app = (await import(path.join(dir, 'dist', 'app.js'))) as { buildApp: (o: object) => FastifyLike };
  const store = (await import(path.join(dir, 'dist', 'sqs', 'sqsStore.js'))) as {
    SqsStore: new () => FauxStore;
  };
  const types = (await import(path.join(dir, 'dist', 'sqs', 'sqsTypes.js'))) as {
    INVALID_MESSAGE_BODY_CHAR: RegExp;
  };
  fixBodyCharCheck(types.INVALID_MESSAGE_BODY_CHAR);
  return { buildApp: app.buildApp, SqsStore: store.SqsStore };
}

/**
 * SQS accepts #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF, but fauxqs 1.9.2 tests
 * UTF-16 code units without the `u` flag and so rejects every emoji, which tweets are full of. The
 * check is one shared RegExp used by SendMessage and SendMessageBatch; giving that instance a correct
 * `test` fixes both without touching the installed package.
 */
// eslint-disable-next-line no-control-regex -- the allowed set includes tab, LF and CR by definition
const SQS_INVALID_BODY_CHAR = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
function fixBodyCharCheck(check: RegExp): void {
  // Idempotent: every startSqs() in a process shares the one module instance.
  Object.defineProperty(check, 'test', {
    value: (text: string) => SQS_INVALID_BODY_CHAR.test(text),
    configurable: true,
  });
}

function takeSnapshot(store: FauxStore): Snapshot {
  const queues = store.listQueues().map((q): QueueSnapshot => {
    const { ready, delayed, inflight } = q.inspectMessages();
    const messages = [...inflight.map((e) => e.message), ...ready, ...delayed].map((m) => ({ ...m }));
    messages.sort(
      q.isFifo()
        ? (a, b) => (a.sequenceNumber ?? '').localeCompare(b.sequenceNumber ?? '')
        : (a, b) => a.sentTimestamp - b.sentTimestamp,
    );
    return {
      name: q.name,
      arn: q.arn,
      attributes: { ...q.attributes },
      tags: Object.fromEntries(q.tags),
      createdTimestamp: q.createdTimestamp,
      lastModifiedTimestamp: q.lastModifiedTimestamp,
      sequenceCounter: q.sequenceCounter,
      messages,
    };
  });
  return { version: SNAPSHOT_VERSION, queues };
}

function readSnapshot(file: string): Snapshot | undefined {
  if (!existsSync(file)) return undefined;
  let parsed: Snapshot;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  } catch (e) {
    throw new Error(
      `SQS state file ${file} is not valid JSON (${(e as Error).message}); delete it to start empty`,
      { cause: e },
    );
  }
  if (parsed?.version !== SNAPSHOT_VERSION || !Array.isArray(parsed.queues)) {
    throw new Error(`SQS state file ${file} has an unknown format (version ${String(parsed?.version)})`);
  }
  return parsed;
}

function restore(store: FauxStore, snapshot: Snapshot, baseUrl: string): void {
  for (const s of snapshot.queues) {
    const q = store.createQueue(s.name, `${baseUrl}/${ACCOUNT_ID}/${s.name}`, s.arn, s.attributes, s.tags);
    q.createdTimestamp = s.createdTimestamp;
    q.lastModifiedTimestamp = s.lastModifiedTimestamp;
    q.sequenceCounter = s.sequenceCounter;
    for (const m of s.messages) {
      q.enqueue(m);
      // Keep the 5-minute dedup window for messages still queued (it restarts at restore time).
      if (m.messageDeduplicationId)
        q.recordDeduplication(m.messageDeduplicationId, m.messageId, m.sequenceNumber);
    }
  }
}

/** Temp file + rename: a crash leaves either the old or the new snapshot, never half of one. */
function writeAtomically(target: string, content: string): void {
  mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, target);
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
  const snapshot = options.dataFile ? readSnapshot(options.dataFile) : undefined;
  const { buildApp, SqsStore } = await loadFauxqs();
  const store = new SqsStore();
  // An empty host makes fauxqs build queue URLs from the request's Host header (127.0.0.1:<port>)
  // instead of the unresolvable `sqs.<region>.localhost` (LOCAL-STACK.md §2, "Queue URL trap").
  store.host = '';
  if (options.region) store.region = options.region;
  const app = buildApp({
    logger: false,
    ...(options.region ? { defaultRegion: options.region } : {}),
    stores: { sqsStore: store },
  });
  const address = await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  const endpoint = address.replace('localhost', '127.0.0.1');
  if (snapshot) restore(store, snapshot, endpoint);

  let lastSaved = snapshot ? JSON.stringify(snapshot) : '';
  const save = () => {
    if (!options.dataFile) return;
    const text = JSON.stringify(takeSnapshot(store));
    if (text === lastSaved) return;
    writeAtomically(options.dataFile, text);
    lastSaved = text;
  };
  const timer = options.dataFile
    ? setInterval(() => {
        try {
          save();
        } catch {
          // A failed periodic save is retried on the next tick and on stop(), where it throws.
        }
      }, options.snapshotIntervalMs ?? 2000)
    : undefined;
  timer?.unref();

  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    save,
    stop() {
      stopping ??= (async () => {
        if (timer) clearInterval(timer);
        await app.close(); // ends pending long polls; nothing changes the store after this
        save();
      })();
      return stopping;
    },
  };
}

/**
 * Creates a queue and its DLQ from a topology spec (adapters/aws/queues.ts) through the real client:
 * FIFO attributes, RedrivePolicy with the spec's maxReceiveCount, VisibilityTimeout and
 * MessageRetentionPeriod. Idempotent: CreateQueue with the same attributes returns the existing queue.
 *
 * @example
 * const { url, dlqUrl, arn } = await createQueueWithDlq(clients.sqs, QUEUES.inbound, '-t1');
 */
export async function createQueueWithDlq(
  sqs: SQSClient,
  spec: QueueSpec,
  suffix = '',
): Promise<QueueWithDlq> {
  const fifo: Record<string, string> = spec.fifo ? { FifoQueue: 'true' } : {};
  const dlqUrl = await createQueue(sqs, dlqName(spec, suffix), {
    ...fifo,
    // The DLQ keeps messages as long as SQS allows, so a failure can still be inspected after the source expired.
    MessageRetentionPeriod: String(14 * 86400),
  });
  const dlqArn = await queueArn(sqs, dlqUrl);
  const url = await createQueue(sqs, queueName(spec, suffix), {
    ...fifo,
    VisibilityTimeout: String(spec.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(spec.retentionSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: spec.maxReceiveCount }),
  });
  return { url, dlqUrl, arn: await queueArn(sqs, url) };
}

async function createQueue(
  sqs: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<string> {
  const out = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (!out.QueueUrl) throw new Error(`CreateQueue ${name} returned no QueueUrl`);
  return out.QueueUrl;
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn' as QueueAttributeName] }),
  );
  const arn = out.Attributes?.QueueArn;
  if (!arn) throw new Error(`GetQueueAttributes returned no QueueArn for ${url}`);
  return arn;
}
