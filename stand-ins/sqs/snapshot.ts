/**
 * Persistence of the SQS stand-in for `npm start` (the data directory's `sqs.json`): queues with their
 * attributes and tags, messages in delivery order with ids, receive counts and sequence numbers, and
 * the deduplication ids still inside their 5-minute window. Messages that were in flight become
 * visible again on restore, which is what SQS does when their visibility timeout ends anyway.
 * Version 1 files (written by the fauxqs-based stand-in before it) are read too.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AttributeValue } from './md5';
import { DEFAULTS, FIFO_DEFAULTS } from './queue-attributes';
import { DEDUP_WINDOW_MS, type DedupEntry, type Queue, type SqsStore, type StoredMessage } from './store';

const VERSION = 2;

interface QueueSnapshot {
  name: string;
  fifo: boolean;
  attributes: Record<string, string>;
  tags: Record<string, string>;
  createdTimestamp: number;
  lastModifiedTimestamp: number;
  sequence: string;
  messages: StoredMessage[];
  dedup: Array<[string, DedupEntry]>;
}

export function takeSnapshot(store: SqsStore): string {
  const queues = store.listQueues().map((q): QueueSnapshot => ({
    name: q.name,
    fifo: q.fifo,
    attributes: q.attributes,
    tags: q.tags,
    createdTimestamp: q.createdTimestamp,
    lastModifiedTimestamp: q.lastModifiedTimestamp,
    sequence: String(q.sequence),
    messages: q.messages,
    dedup: [...q.dedup],
  }));
  return JSON.stringify({ version: VERSION, queues });
}

/** The fauxqs 1.9.2 message fields the version 1 file holds. */
interface V1Message {
  messageId: string;
  body: string;
  md5OfBody: string;
  messageAttributes?: Record<string, AttributeValue>;
  sentTimestamp: number;
  approximateReceiveCount?: number;
  approximateFirstReceiveTimestamp?: number;
  messageGroupId?: string;
  messageDeduplicationId?: string;
  sequenceNumber?: string;
  delayUntil?: number;
}
interface V1Queue {
  name: string;
  attributes: Record<string, string>;
  tags: Record<string, string>;
  createdTimestamp: number;
  lastModifiedTimestamp: number;
  sequenceCounter: number;
  messages: V1Message[];
}

function fromV1(q: V1Queue, now: number): QueueSnapshot {
  const fifo = q.name.endsWith('.fifo');
  const attributes = { ...DEFAULTS, ...(fifo ? FIFO_DEFAULTS : {}), ...q.attributes };
  delete attributes.FifoQueue;
  const messages = q.messages.map((m): StoredMessage => ({
    messageId: m.messageId,
    body: m.body,
    md5OfBody: m.md5OfBody,
    attributes: m.messageAttributes ?? {},
    systemAttributes: {},
    sentTimestamp: m.sentTimestamp,
    senderId: 'AIDAIENQZJOLO23YVJ4VO',
    groupId: m.messageGroupId,
    dedupId: m.messageDeduplicationId,
    sequenceNumber: m.sequenceNumber,
    receiveCount: m.approximateReceiveCount ?? 0,
    firstReceiveTimestamp: m.approximateFirstReceiveTimestamp,
    visibleAt: m.delayUntil ?? 0,
  }));
  const scopeGroup = attributes.DeduplicationScope === 'messageGroup';
  const dedup = messages
    .filter((m) => m.dedupId)
    .map((m): [string, DedupEntry] => [
      scopeGroup ? `${m.groupId}\u0000${m.dedupId}` : m.dedupId!,
      { messageId: m.messageId, sequenceNumber: m.sequenceNumber, expiresAt: now + DEDUP_WINDOW_MS },
    ]);
  return {
    name: q.name,
    fifo,
    attributes,
    tags: q.tags ?? {},
    createdTimestamp: q.createdTimestamp * 1000,
    lastModifiedTimestamp: q.lastModifiedTimestamp * 1000,
    sequence: String(q.sequenceCounter ?? 0),
    messages,
    dedup,
  };
}

/** Loads `file` into `store` (nothing when it does not exist); a corrupt file is refused with its name. */
export function restoreSnapshot(store: SqsStore, file: string): void {
  if (!existsSync(file)) return;
  let parsed: { version?: number; queues?: unknown[] };
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as typeof parsed;
  } catch (e) {
    throw new Error(
      `SQS state file ${file} is not valid JSON (${(e as Error).message}); delete it to start empty`,
      {
        cause: e,
      },
    );
  }
  if ((parsed?.version !== 1 && parsed?.version !== VERSION) || !Array.isArray(parsed.queues)) {
    throw new Error(`SQS state file ${file} has an unknown format (version ${String(parsed?.version)})`);
  }
  const now = store.now();
  for (const raw of parsed.queues) {
    const s = parsed.version === 1 ? fromV1(raw as V1Queue, now) : (raw as QueueSnapshot);
    const q: Queue = {
      name: s.name,
      arn: store.arnOf(s.name),
      fifo: s.fifo,
      attributes: s.attributes,
      tags: s.tags,
      createdTimestamp: s.createdTimestamp,
      lastModifiedTimestamp: s.lastModifiedTimestamp,
      sequence: BigInt(s.sequence),
      messages: s.messages.map((m) =>
        m.receiptHandle ? { ...m, receiptHandle: undefined, visibleAt: 0 } : { ...m },
      ),
      dedup: new Map(s.dedup),
    };
    store.restoreQueue(q);
  }
}

/** Temp file + rename: a crash leaves either the old or the new snapshot, never half of one. */
export function writeAtomically(target: string, content: string): void {
  mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, target);
}
