/**
 * The queues and their messages, on the stand-in's own clock (`now()`, injectable): FIFO order per
 * message group and group locks, deduplication for 5 minutes per queue or per message group
 * (`DeduplicationScope`), content-based deduplication, visibility timeouts, delays, retention, redrive
 * to the dead-letter queue after `maxReceiveCount` receives, and purge. Protocol-free: actions.ts
 * validates requests and calls these methods.
 *
 * Message states, as SQS counts them:
 * ```
 * send ─(delay)─> delayed ─> visible ─receive─> in flight ─delete─> gone
 *                              ^                   │ visibility timeout ends / ChangeMessageVisibility 0
 *                              └───────────────────┘   (receive #maxReceiveCount+1 moves it to the DLQ)
 * ```
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { sqsError } from './errors';
import { md5Hex, md5OfAttributes, type AttributeValue } from './md5';
import {
  checkFifoCombination,
  DEFAULTS,
  FIFO_DEFAULTS,
  parseRedrivePolicy,
  validateAttributes,
} from './queue-attributes';

/** SQS keeps a deduplication id for 5 minutes after the message that carried it was accepted. */
export const DEDUP_WINDOW_MS = 5 * 60_000;
/** A deleted queue's name cannot be reused for 60 seconds; a queue can be purged once a minute. */
const RECENT_MS = 60_000;
export const ACCOUNT_ID = '000000000000';

export interface StoredMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  attributes: Record<string, AttributeValue>;
  systemAttributes: Record<string, AttributeValue>;
  sentTimestamp: number;
  senderId: string;
  groupId?: string;
  dedupId?: string;
  sequenceNumber?: string;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  /** When the message is (again) visible: after its delay, or after its visibility timeout. */
  visibleAt: number;
  /** The receipt handle of the current receive; set while in flight (and stale after it). */
  receiptHandle?: string;
  deadLetterSourceArn?: string;
}

export interface DedupEntry {
  messageId: string;
  sequenceNumber?: string;
  expiresAt: number;
}

export interface Queue {
  name: string;
  arn: string;
  fifo: boolean;
  attributes: Record<string, string>;
  tags: Record<string, string>;
  createdTimestamp: number;
  lastModifiedTimestamp: number;
  sequence: bigint;
  /** In delivery order: FIFO by sequence number, standard by send time. */
  messages: StoredMessage[];
  dedup: Map<string, DedupEntry>;
  lastPurgeAt?: number;
}

export interface SendInput {
  body: string;
  attributes?: Record<string, AttributeValue>;
  systemAttributes?: Record<string, AttributeValue>;
  delaySeconds?: number;
  groupId?: string;
  dedupId?: string;
}

export interface SendResult {
  messageId: string;
  md5OfBody: string;
  md5OfAttributes?: string;
  md5OfSystemAttributes?: string;
  sequenceNumber?: string;
}

export interface StoreOptions {
  region: string;
  /** The stand-in's clock in epoch ms. @default Date.now */
  now?: () => number;
}

const isFifoName = (name: string) => name.endsWith('.fifo');

export class SqsStore {
  readonly region: string;
  readonly now: () => number;
  private readonly queues = new Map<string, Queue>();
  private readonly deletedAt = new Map<string, number>();
  private readonly listeners = new Set<() => void>();
  private readonly lastExpiry = new WeakMap<Queue, number>();
  /** Bumped on every change; the snapshot writer compares it. */
  version = 0;

  constructor(options: StoreOptions) {
    this.region = options.region;
    this.now = options.now ?? Date.now;
  }

  /** Called after any change that could make a message receivable (long polls wait on it). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Records a change made outside these methods (tags). */
  touch(): void {
    this.changed();
  }

  private changed(): void {
    this.version++;
    for (const l of [...this.listeners]) l();
  }

  arnOf(name: string): string {
    return `arn:aws:sqs:${this.region}:${ACCOUNT_ID}:${name}`;
  }

  // ── queues ────────────────────────────────────────────────────────────────────────────────────

  createQueue(
    name: string,
    attributes: Record<string, string> = {},
    tags: Record<string, string> = {},
  ): Queue {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name.replace(/\.fifo$/, '')) || name.length > 80) {
      throw sqsError(
        'InvalidParameterValue',
        `Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length (queue name ${name}).`,
      );
    }
    const fifo = attributes.FifoQueue === 'true';
    if (fifo !== isFifoName(name)) {
      throw sqsError(
        'InvalidParameterValue',
        fifo
          ? `The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix (queue name ${name}).`
          : `Queue name ${name} ends with .fifo but the FifoQueue attribute is not true.`,
      );
    }
    const given = validateAttributes(attributes, fifo, true);
    const full = { ...DEFAULTS, ...(fifo ? FIFO_DEFAULTS : {}), ...given };
    checkFifoCombination(full);
    this.checkRedriveTarget(full.RedrivePolicy, fifo);
    const existing = this.queues.get(name);
    if (existing) {
      for (const [k, v] of Object.entries(full)) {
        if (k !== 'FifoQueue' && existing.attributes[k] !== v) {
          throw sqsError(
            'QueueNameExists',
            `A queue already exists with the same name and a different value for attribute ${k}`,
          );
        }
      }
      return existing;
    }
    const deleted = this.deletedAt.get(name);
    if (deleted !== undefined && this.now() - deleted < RECENT_MS) {
      throw sqsError(
        'QueueDeletedRecently',
        `You must wait 60 seconds after deleting a queue before you can create another queue with the name ${name}.`,
      );
    }
    const now = this.now();
    delete full.FifoQueue;
    const q: Queue = {
      name,
      arn: this.arnOf(name),
      fifo,
      attributes: full,
      tags: { ...tags },
      createdTimestamp: now,
      lastModifiedTimestamp: now,
      sequence: 0n,
      messages: [],
      dedup: new Map(),
    };
    this.queues.set(name, q);
    this.changed();
    return q;
  }

  /** Puts a queue back as it was saved (persistence); no validation. */
  restoreQueue(q: Queue): void {
    this.queues.set(q.name, q);
  }

  getQueue(name: string): Queue {
    const q = this.queues.get(name);
    if (!q) throw sqsError('QueueDoesNotExist', 'The specified queue does not exist.');
    return q;
  }

  listQueues(): Queue[] {
    return [...this.queues.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  deleteQueue(name: string): void {
    this.getQueue(name);
    this.queues.delete(name);
    this.deletedAt.set(name, this.now());
    this.changed();
  }

  setAttributes(q: Queue, attributes: Record<string, string>): void {
    const given = validateAttributes(attributes, q.fifo, false);
    const next = { ...q.attributes, ...given };
    if (next.RedrivePolicy === '') delete next.RedrivePolicy;
    checkFifoCombination(next);
    this.checkRedriveTarget(next.RedrivePolicy, q.fifo);
    q.attributes = next;
    q.lastModifiedTimestamp = this.now();
    this.changed();
  }

  private checkRedriveTarget(policy: string | undefined, fifo: boolean): void {
    if (!policy) return;
    const { deadLetterTargetArn } = parseRedrivePolicy(policy);
    const target = this.queues.get(deadLetterTargetArn.split(':').pop() ?? '');
    if (!target || target.arn !== deadLetterTargetArn) {
      throw sqsError(
        'InvalidParameterValue',
        `Value ${policy} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.`,
      );
    }
    if (target.fifo !== fifo) {
      throw sqsError(
        'InvalidParameterValue',
        `Value ${policy} for parameter RedrivePolicy is invalid. Reason: Dead-letter queue must be the same type of queue as the source.`,
      );
    }
  }

  /** Attribute values derived from the messages (counts) and the queue itself. */
  queueAttributes(q: Queue): Record<string, string> {
    this.expire(q);
    const now = this.now();
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    for (const m of q.messages) {
      if (m.visibleAt <= now) visible++;
      else if (m.receiptHandle) inFlight++;
      else delayed++;
    }
    return {
      QueueArn: q.arn,
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: String(inFlight),
      ApproximateNumberOfMessagesDelayed: String(delayed),
      CreatedTimestamp: String(Math.floor(q.createdTimestamp / 1000)),
      LastModifiedTimestamp: String(Math.floor(q.lastModifiedTimestamp / 1000)),
      ...q.attributes,
      ...(q.fifo ? { FifoQueue: 'true' } : {}),
    };
  }

  purge(q: Queue): void {
    const now = this.now();
    if (q.lastPurgeAt !== undefined && now - q.lastPurgeAt < RECENT_MS) {
      throw sqsError(
        'PurgeQueueInProgress',
        `Only one PurgeQueue operation on ${q.name} is allowed every 60 seconds.`,
      );
    }
    q.lastPurgeAt = now;
    q.messages = [];
    this.changed();
  }

  // ── messages ──────────────────────────────────────────────────────────────────────────────────

  /**
   * Drops messages past the retention period (a full scan at most once a second of the clock) and
   * dedup ids past their 5 minutes (oldest first: the map is in insertion order, so this stops at
   * the first one still valid).
   */
  private expire(q: Queue): void {
    const now = this.now();
    const last = this.lastExpiry.get(q) ?? -Infinity;
    if (now - last >= 1000 || now < last) {
      this.lastExpiry.set(q, now);
      const retentionMs = Number(q.attributes.MessageRetentionPeriod) * 1000;
      const kept = q.messages.filter((m) => m.sentTimestamp + retentionMs > now);
      if (kept.length !== q.messages.length) {
        q.messages = kept;
        this.version++;
      }
    }
    for (const [key, entry] of q.dedup) {
      if (entry.expiresAt > now) break;
      q.dedup.delete(key);
    }
  }

  send(q: Queue, input: SendInput): SendResult {
    this.expire(q);
    const now = this.now();
    const md5OfBody = md5Hex(input.body);
    const out = {
      md5OfBody,
      md5OfAttributes: md5OfAttributes(input.attributes),
      md5OfSystemAttributes: md5OfAttributes(input.systemAttributes),
    };
    let dedupKey: string | undefined;
    let dedupId = input.dedupId;
    if (q.fifo) {
      if (dedupId === undefined) {
        // Content-based deduplication: the SHA-256 of the body (not of the attributes).
        dedupId = createSha256(input.body);
      }
      dedupKey =
        q.attributes.DeduplicationScope === 'messageGroup' ? `${input.groupId}\u0000${dedupId}` : dedupId;
      const seen = q.dedup.get(dedupKey);
      if (seen) return { ...out, messageId: seen.messageId, sequenceNumber: seen.sequenceNumber };
    }
    const delay = input.delaySeconds ?? Number(q.attributes.DelaySeconds);
    const message: StoredMessage = {
      messageId: randomUUID(),
      body: input.body,
      md5OfBody,
      attributes: input.attributes ?? {},
      systemAttributes: input.systemAttributes ?? {},
      sentTimestamp: now,
      senderId: 'AIDAIENQZJOLO23YVJ4VO',
      groupId: input.groupId,
      dedupId: q.fifo ? dedupId : undefined,
      receiveCount: 0,
      visibleAt: now + delay * 1000,
    };
    if (q.fifo) {
      q.sequence += 1n;
      message.sequenceNumber = String(q.sequence).padStart(20, '0');
      q.dedup.set(dedupKey!, {
        messageId: message.messageId,
        sequenceNumber: message.sequenceNumber,
        expiresAt: now + DEDUP_WINDOW_MS,
      });
    }
    q.messages.push(message);
    this.changed();
    return { ...out, messageId: message.messageId, sequenceNumber: message.sequenceNumber };
  }

  /**
   * Takes up to `max` receivable messages and puts them in flight for `visibilitySeconds`. FIFO: a
   * message group with a message in flight is locked; within a group only the oldest messages go out,
   * in order. A message received `maxReceiveCount` times already moves to the DLQ instead.
   */
  receive(q: Queue, max: number, visibilitySeconds: number): StoredMessage[] {
    this.expire(q);
    const now = this.now();
    const redrive = q.attributes.RedrivePolicy ? parseRedrivePolicy(q.attributes.RedrivePolicy) : undefined;
    const blocked = new Set<string>();
    if (q.fifo) {
      for (const m of q.messages) if (m.receiptHandle && m.visibleAt > now) blocked.add(m.groupId ?? '');
    }
    const taken: StoredMessage[] = [];
    const toDlq: StoredMessage[] = [];
    for (const m of q.messages) {
      if (taken.length >= max) break;
      const group = m.groupId ?? '';
      if (q.fifo && blocked.has(group)) continue;
      if (m.visibleAt > now) {
        if (q.fifo) blocked.add(group); // a later message of the group never overtakes this one
        continue;
      }
      if (
        redrive &&
        m.receiveCount >= redrive.maxReceiveCount &&
        this.queueByArn(redrive.deadLetterTargetArn)
      ) {
        toDlq.push(m);
        continue;
      }
      m.receiveCount++;
      m.firstReceiveTimestamp ??= now;
      m.visibleAt = now + visibilitySeconds * 1000;
      m.receiptHandle = receiptHandle(q.name, m.messageId);
      taken.push(m);
    }
    if (toDlq.length) this.moveToDlq(q, toDlq, this.queueByArn(redrive!.deadLetterTargetArn)!);
    if (taken.length || toDlq.length) this.changed();
    return taken;
  }

  private queueByArn(arn: string): Queue | undefined {
    const q = this.queues.get(arn.split(':').pop() ?? '');
    return q?.arn === arn ? q : undefined;
  }

  private moveToDlq(source: Queue, messages: StoredMessage[], dlq: Queue): void {
    const moving = new Set(messages);
    source.messages = source.messages.filter((m) => !moving.has(m));
    for (const m of messages) {
      const moved: StoredMessage = {
        ...m,
        receiptHandle: undefined,
        visibleAt: 0,
        deadLetterSourceArn: source.arn,
      };
      if (dlq.fifo) {
        dlq.sequence += 1n;
        moved.sequenceNumber = String(dlq.sequence).padStart(20, '0');
      }
      dlq.messages.push(moved);
    }
  }

  /** Finds the in-flight message a receipt handle names; throws ReceiptHandleIsInvalid for a malformed or foreign one. */
  private byHandle(q: Queue, handle: string): StoredMessage | undefined {
    const parsed = parseReceiptHandle(handle);
    if (!parsed || parsed.queue !== q.name) {
      throw sqsError(
        'ReceiptHandleIsInvalid',
        `The input receipt handle "${handle}" is not a valid receipt handle.`,
      );
    }
    return q.messages.find((m) => m.messageId === parsed.messageId);
  }

  /**
   * Deletes the message a receipt handle was issued for. As in SQS, a handle of a message already
   * deleted succeeds, and an outdated handle (the message was received again since) deletes nothing.
   */
  deleteMessage(q: Queue, handle: string): void {
    const m = this.byHandle(q, handle);
    if (!m || m.receiptHandle !== handle) return;
    q.messages.splice(q.messages.indexOf(m), 1);
    this.changed();
  }

  changeVisibility(q: Queue, handle: string, seconds: number): void {
    const m = this.byHandle(q, handle);
    const now = this.now();
    if (!m || m.receiptHandle !== handle || m.visibleAt <= now) {
      throw sqsError('MessageNotInflight', 'The message referred to is not in flight.');
    }
    m.visibleAt = now + seconds * 1000;
    this.changed();
  }

  /** Earliest time a message of `q` becomes visible (for long polls), or undefined. */
  nextVisibleAt(q: Queue): number | undefined {
    let next: number | undefined;
    for (const m of q.messages) if (next === undefined || m.visibleAt < next) next = m.visibleAt;
    return next;
  }
}

const createSha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** Receipt handles carry the queue and message they were issued for, plus a nonce per receive. */
function receiptHandle(queue: string, messageId: string): string {
  return Buffer.from(`${queue} ${messageId} ${randomBytes(12).toString('hex')}`, 'utf8').toString('base64');
}

function parseReceiptHandle(handle: string): { queue: string; messageId: string } | undefined {
  if (!/^[A-Za-z0-9+/=]+$/.test(handle)) return undefined;
  const parts = Buffer.from(handle, 'base64').toString('utf8').split(' ');
  if (parts.length !== 3 || !/^[0-9a-f]{24}$/.test(parts[2])) return undefined;
  return { queue: parts[0], messageId: parts[1] };
}
