/**
 * The SQS actions on request and response objects shaped as the JSON protocol carries them (the
 * query protocol converts to and from this shape): parameter validation with SQS's error codes and
 * wording, then one store call. ReceiveMessage long-polls: it waits for a change in the store (a send,
 * a visibility change) or a visibility deadline, and returns as soon as there is something to take.
 */
import { invalidValue, missing, sqsError } from './errors';
import { md5OfAttributes, type AttributeValue } from './md5';
import { READABLE } from './queue-attributes';
import type { Queue, SendInput, SqsStore, StoredMessage } from './store';
import { ACCOUNT_ID } from './store';

export type Input = Record<string, unknown>;
export type Output = Record<string, unknown>;

export interface ActionContext {
  store: SqsStore;
  /** `http://127.0.0.1:<port>`: queue URLs are `<baseUrl>/000000000000/<name>`. */
  baseUrl: string;
  /** Aborted when the client goes away or the stand-in stops: a long poll then ends empty. */
  signal: AbortSignal;
}

type Action = (input: Input, ctx: ActionContext) => Output | Promise<Output>;

// eslint-disable-next-line no-control-regex -- the allowed set includes tab, LF and CR by definition
const INVALID_CHAR = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const ID_128 = /^[\x21-\x7E]{1,128}$/; // alphanumeric and punctuation, as SQS allows for group and dedup ids
const BATCH_ID = /^[A-Za-z0-9_-]{1,80}$/;
const SYSTEM_NAMES = [
  'All',
  'SenderId',
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'SequenceNumber',
  'MessageDeduplicationId',
  'MessageGroupId',
  'AWSTraceHeader',
  'DeadLetterQueueSourceArn',
];

const queueUrl = (ctx: ActionContext, name: string) => `${ctx.baseUrl}/${ACCOUNT_ID}/${name}`;

function str(input: Input, name: string, required: true): string;
function str(input: Input, name: string, required?: false): string | undefined;
function str(input: Input, name: string, required = false): string | undefined {
  const v = input[name];
  if (v === undefined || v === null) {
    if (required) throw missing(name);
    return undefined;
  }
  if (typeof v !== 'string') throw invalidValue(name, JSON.stringify(v), 'must be a string');
  return v;
}

function int(input: Input, name: string, min: number, max: number): number | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v : /^-?\d+$/.test(String(v)) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw invalidValue(name, v, `Must be between ${min} and ${max}, if provided`);
  }
  return n;
}

function strings(input: Input, name: string): string[] {
  const v = input[name];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) {
    throw invalidValue(name, JSON.stringify(v), 'must be a list of strings');
  }
  return v as string[];
}

function map(input: Input, name: string): Record<string, string> {
  const v = input[name];
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidValue(name, JSON.stringify(v), 'must be a map');
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]));
}

/** The queue a `QueueUrl` names: its last path segment, under our account id. */
function queueOf(input: Input, ctx: ActionContext): Queue {
  const url = str(input, 'QueueUrl', true);
  let parts: string[];
  try {
    parts = new URL(url, ctx.baseUrl).pathname.split('/').filter(Boolean);
  } catch {
    throw sqsError('InvalidAddress', `The address ${url} is not valid for this endpoint.`);
  }
  if (parts.length === 0)
    throw sqsError('InvalidAddress', `The address ${url} is not valid for this endpoint.`);
  if (parts.length > 1 && parts[parts.length - 2] !== ACCOUNT_ID) {
    throw sqsError('QueueDoesNotExist', 'The specified queue does not exist.');
  }
  return ctx.store.getQueue(decodeURIComponent(parts[parts.length - 1]));
}

function messageAttributes(raw: unknown, param: string): Record<string, AttributeValue> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw invalidValue(param, JSON.stringify(raw), 'must be a map');
  const entries = Object.entries(raw as Record<string, Record<string, unknown>>);
  if (entries.length > 10)
    throw invalidValue(param, entries.length, 'Number of message attributes cannot exceed 10');
  const out: Record<string, AttributeValue> = {};
  for (const [name, value] of entries) {
    if (
      !/^[A-Za-z0-9_.-]{1,256}$/.test(name) ||
      name.startsWith('.') ||
      name.endsWith('.') ||
      /\.\./.test(name)
    ) {
      throw invalidValue(
        `${param}.Name`,
        name,
        'Message attribute name can only contain alphanumeric, hyphen, underscore and period',
      );
    }
    if (/^(aws|amazon)\./i.test(name)) {
      throw invalidValue(
        `${param}.Name`,
        name,
        'You cannot use message attribute names starting with AWS. or Amazon.',
      );
    }
    const dataType = typeof value?.DataType === 'string' ? value.DataType : '';
    const base = dataType.split('.')[0];
    if (!['String', 'Number', 'Binary'].includes(base)) {
      throw invalidValue(
        `${param}.${name}.DataType`,
        dataType || '(none)',
        'must be String, Number or Binary (optionally with a .custom suffix)',
      );
    }
    if (base === 'Binary') {
      if (typeof value.BinaryValue !== 'string') {
        throw sqsError(
          'InvalidParameterValue',
          `Message attribute '${name}' with type 'Binary' must use field 'Binary'.`,
        );
      }
      out[name] = { DataType: dataType, BinaryValue: value.BinaryValue };
    } else {
      if (typeof value.StringValue !== 'string' || value.StringValue === '') {
        throw sqsError(
          'InvalidParameterValue',
          `Message attribute '${name}' must contain a non-empty value of type '${base}'.`,
        );
      }
      if (base === 'Number' && !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value.StringValue)) {
        throw sqsError(
          'InvalidParameterValue',
          `Can't cast the value of message (user) attribute '${name}' to a number.`,
        );
      }
      if (INVALID_CHAR.test(value.StringValue)) {
        throw sqsError(
          'InvalidMessageContents',
          `Invalid characters found in the value of message attribute '${name}'.`,
        );
      }
      out[name] = { DataType: dataType, StringValue: value.StringValue };
    }
  }
  return out;
}

/** Validates one SendMessage (or batch entry) against its queue and returns the store's input. */
function sendInput(q: Queue, input: Input): SendInput {
  const body = str(input, 'MessageBody', true);
  if (body.length === 0) throw missing('MessageBody');
  if (INVALID_CHAR.test(body)) {
    throw sqsError(
      'InvalidMessageContents',
      'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF',
    );
  }
  const attributes = messageAttributes(input.MessageAttributes, 'MessageAttributes');
  const systemAttributes = messageAttributes(input.MessageSystemAttributes, 'MessageSystemAttributes');
  for (const name of Object.keys(systemAttributes ?? {})) {
    if (name !== 'AWSTraceHeader')
      throw invalidValue('MessageSystemAttributes', name, 'only AWSTraceHeader is supported');
  }
  const size =
    Buffer.byteLength(body) +
    Object.entries(attributes ?? {}).reduce(
      (n, [k, a]) =>
        n +
        Buffer.byteLength(k) +
        Buffer.byteLength(a.DataType) +
        Buffer.byteLength(a.StringValue ?? a.BinaryValue ?? ''),
      0,
    );
  const maxSize = Number(q.attributes.MaximumMessageSize);
  if (size > maxSize) {
    throw invalidValue('MessageBody', '(message)', `Message must be shorter than ${maxSize} bytes`);
  }
  const delaySeconds = int(input, 'DelaySeconds', 0, 900);
  const groupId = str(input, 'MessageGroupId');
  const dedupId = str(input, 'MessageDeduplicationId');
  if (groupId !== undefined && !ID_128.test(groupId)) {
    throw invalidValue(
      'MessageGroupId',
      groupId,
      'MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length',
    );
  }
  if (dedupId !== undefined && !ID_128.test(dedupId)) {
    throw invalidValue(
      'MessageDeduplicationId',
      dedupId,
      'MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length',
    );
  }
  if (q.fifo) {
    if (groupId === undefined) throw missing('MessageGroupId');
    if (delaySeconds !== undefined) {
      throw invalidValue(
        'DelaySeconds',
        delaySeconds,
        'The request include parameter that is not valid for this queue type',
      );
    }
    if (dedupId === undefined && q.attributes.ContentBasedDeduplication !== 'true') {
      throw sqsError(
        'InvalidParameterValue',
        'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
      );
    }
  } else if (dedupId !== undefined) {
    throw invalidValue(
      'MessageDeduplicationId',
      dedupId,
      'The request include parameter that is not valid for this queue type',
    );
  }
  return { body, attributes, systemAttributes, delaySeconds, groupId, dedupId };
}

function sendOutput(r: ReturnType<SqsStore['send']>): Output {
  return {
    MessageId: r.messageId,
    MD5OfMessageBody: r.md5OfBody,
    ...(r.md5OfAttributes ? { MD5OfMessageAttributes: r.md5OfAttributes } : {}),
    ...(r.md5OfSystemAttributes ? { MD5OfMessageSystemAttributes: r.md5OfSystemAttributes } : {}),
    ...(r.sequenceNumber ? { SequenceNumber: r.sequenceNumber } : {}),
  };
}

/** Runs a batch: checks the entry list as SQS does, then each entry on its own (Successful / Failed). */
function batch(
  input: Input,
  perEntry: (entry: Input) => Output,
  totalBytes?: (entries: Input[]) => number,
  maxBytes?: number,
): Output {
  const entries = input.Entries;
  if (!Array.isArray(entries) || entries.length === 0) {
    throw sqsError(
      'EmptyBatchRequest',
      'There should be at least one SendMessageBatchRequestEntry in the request.',
    );
  }
  if (entries.length > 10) {
    throw sqsError(
      'TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are 10. You have sent ${entries.length}.`,
    );
  }
  const ids = new Set<string>();
  for (const e of entries as Input[]) {
    const id = typeof e.Id === 'string' ? e.Id : '';
    if (!BATCH_ID.test(id)) {
      throw sqsError(
        'InvalidBatchEntryId',
        'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
      );
    }
    if (ids.has(id)) throw sqsError('BatchEntryIdsNotDistinct', `Id ${id} repeated.`);
    ids.add(id);
  }
  if (totalBytes && maxBytes !== undefined && totalBytes(entries as Input[]) > maxBytes) {
    throw sqsError('BatchRequestTooLong', `Batch requests cannot be longer than ${maxBytes} bytes.`);
  }
  const Successful: Output[] = [];
  const Failed: Output[] = [];
  for (const e of entries as Input[]) {
    try {
      Successful.push({ Id: e.Id, ...perEntry(e) });
    } catch (err) {
      if (!(err as { kind?: unknown }).kind) throw err;
      const k = (err as { kind: { queryCode: string; fault: string } }).kind;
      Failed.push({
        Id: e.Id,
        SenderFault: k.fault === 'Sender',
        Code: k.queryCode,
        Message: (err as Error).message,
      });
    }
  }
  return { Successful, Failed };
}

function wants(requested: string[], name: string): boolean {
  return requested.includes('All') || requested.includes(name);
}

/** A received message as SQS returns it: system attributes and message attributes only as requested. */
function received(m: StoredMessage, systemNames: string[], attributeNames: string[]): Output {
  const attrs: Record<string, string> = {};
  const put = (name: string, value: string | number | undefined) => {
    if (value !== undefined && wants(systemNames, name)) attrs[name] = String(value);
  };
  put('SenderId', m.senderId);
  put('SentTimestamp', m.sentTimestamp);
  put('ApproximateReceiveCount', m.receiveCount);
  put('ApproximateFirstReceiveTimestamp', m.firstReceiveTimestamp);
  put('SequenceNumber', m.sequenceNumber);
  put('MessageDeduplicationId', m.dedupId);
  put('MessageGroupId', m.groupId);
  put('AWSTraceHeader', m.systemAttributes.AWSTraceHeader?.StringValue);
  put('DeadLetterQueueSourceArn', m.deadLetterSourceArn);
  const all = attributeNames.includes('All') || attributeNames.includes('.*');
  const picked = Object.entries(m.attributes).filter(
    ([name]) =>
      all || attributeNames.some((p) => (p.endsWith('.*') ? name.startsWith(p.slice(0, -1)) : p === name)),
  );
  const messageAttributes = Object.fromEntries(picked);
  const md5 = picked.length ? md5OfAttributes(messageAttributes) : undefined;
  return {
    MessageId: m.messageId,
    ReceiptHandle: m.receiptHandle,
    MD5OfBody: m.md5OfBody,
    Body: m.body,
    ...(Object.keys(attrs).length ? { Attributes: attrs } : {}),
    ...(md5 ? { MD5OfMessageAttributes: md5, MessageAttributes: messageAttributes } : {}),
  };
}

async function receiveMessage(input: Input, ctx: ActionContext): Promise<Output> {
  const q = queueOf(input, ctx);
  const max = int(input, 'MaxNumberOfMessages', 1, 10) ?? 1;
  const visibility = int(input, 'VisibilityTimeout', 0, 43200) ?? Number(q.attributes.VisibilityTimeout);
  const wait = int(input, 'WaitTimeSeconds', 0, 20) ?? Number(q.attributes.ReceiveMessageWaitTimeSeconds);
  const systemNames = [...strings(input, 'AttributeNames'), ...strings(input, 'MessageSystemAttributeNames')];
  for (const n of systemNames) {
    if (!SYSTEM_NAMES.includes(n) && !READABLE.includes(n as (typeof READABLE)[number])) {
      throw sqsError('InvalidAttributeName', `Unknown Attribute ${n}.`);
    }
  }
  const attributeNames = strings(input, 'MessageAttributeNames');
  const deadline = Date.now() + wait * 1000;
  for (;;) {
    const current = ctx.store.getQueue(q.name); // a queue deleted during a long poll ends it with its error
    const taken = ctx.store.receive(current, max, visibility);
    if (taken.length || Date.now() >= deadline || ctx.signal.aborted) {
      return { Messages: taken.map((m) => received(m, systemNames, attributeNames)) };
    }
    await waitForChange(ctx, current, deadline);
  }
}

/** Resolves on a store change, at the next visibility deadline (checked every 100 ms of real time), or at the poll deadline. */
function waitForChange(ctx: ActionContext, q: Queue, deadline: number): Promise<void> {
  return new Promise((resolve) => {
    const next = ctx.store.nextVisibleAt(q);
    const untilVisible = next === undefined ? Infinity : Math.max(0, next - ctx.store.now());
    const ms = Math.max(0, Math.min(deadline - Date.now(), untilVisible, 100));
    let off: () => unknown = () => undefined;
    const done = () => {
      clearTimeout(timer);
      off();
      ctx.signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    off = ctx.store.onChange(done);
    ctx.signal.addEventListener('abort', done);
  });
}

const batchSize = (entries: Input[]) =>
  entries.reduce((n, e) => n + Buffer.byteLength(typeof e.MessageBody === 'string' ? e.MessageBody : ''), 0);

export const ACTIONS: Record<string, Action> = {
  CreateQueue(input, ctx) {
    const name = str(input, 'QueueName', true);
    const q = ctx.store.createQueue(name, map(input, 'Attributes'), map(input, 'tags'));
    return { QueueUrl: queueUrl(ctx, q.name) };
  },
  GetQueueUrl(input, ctx) {
    const name = str(input, 'QueueName', true);
    const owner = str(input, 'QueueOwnerAWSAccountId');
    if (owner !== undefined && owner !== ACCOUNT_ID)
      throw sqsError('QueueDoesNotExist', 'The specified queue does not exist.');
    return { QueueUrl: queueUrl(ctx, ctx.store.getQueue(name).name) };
  },
  ListQueues(input, ctx) {
    const prefix = str(input, 'QueueNamePrefix') ?? '';
    const maxResults = int(input, 'MaxResults', 1, 1000);
    const token = str(input, 'NextToken');
    let after = '';
    if (token !== undefined) {
      if (maxResults === undefined) throw invalidValue('NextToken', token, 'NextToken requires MaxResults');
      after = Buffer.from(token, 'base64').toString('utf8');
      if (!after.startsWith('xc-sqs:'))
        throw invalidValue('NextToken', token, 'Invalid or expired next token');
      after = after.slice('xc-sqs:'.length);
    }
    const names = ctx.store
      .listQueues()
      .map((q) => q.name)
      .filter((n) => n.startsWith(prefix) && n > after);
    const page = names.slice(0, maxResults ?? 1000);
    const more = maxResults !== undefined && names.length > page.length;
    return {
      ...(page.length ? { QueueUrls: page.map((n) => queueUrl(ctx, n)) } : {}),
      ...(more ? { NextToken: Buffer.from(`xc-sqs:${page[page.length - 1]}`).toString('base64') } : {}),
    };
  },
  DeleteQueue(input, ctx) {
    ctx.store.deleteQueue(queueOf(input, ctx).name);
    return {};
  },
  PurgeQueue(input, ctx) {
    ctx.store.purge(queueOf(input, ctx));
    return {};
  },
  GetQueueAttributes(input, ctx) {
    const q = queueOf(input, ctx);
    const names = strings(input, 'AttributeNames');
    for (const n of names) {
      if (!READABLE.includes(n as (typeof READABLE)[number]))
        throw sqsError('InvalidAttributeName', `Unknown Attribute ${n}.`);
    }
    const all = ctx.store.queueAttributes(q);
    const picked = Object.entries(all).filter(([k]) => names.includes('All') || names.includes(k));
    return picked.length ? { Attributes: Object.fromEntries(picked) } : {};
  },
  SetQueueAttributes(input, ctx) {
    ctx.store.setAttributes(queueOf(input, ctx), map(input, 'Attributes'));
    return {};
  },
  ListQueueTags(input, ctx) {
    const q = queueOf(input, ctx);
    return Object.keys(q.tags).length ? { Tags: { ...q.tags } } : {};
  },
  TagQueue(input, ctx) {
    const q = queueOf(input, ctx);
    Object.assign(q.tags, map(input, 'Tags'));
    ctx.store.touch();
    return {};
  },
  UntagQueue(input, ctx) {
    const q = queueOf(input, ctx);
    for (const k of strings(input, 'TagKeys')) delete q.tags[k];
    ctx.store.touch();
    return {};
  },
  ListDeadLetterSourceQueues(input, ctx) {
    const q = queueOf(input, ctx);
    const sources = ctx.store
      .listQueues()
      .filter(
        (s) =>
          s.attributes.RedrivePolicy && JSON.parse(s.attributes.RedrivePolicy).deadLetterTargetArn === q.arn,
      );
    return { queueUrls: sources.map((s) => queueUrl(ctx, s.name)) };
  },
  SendMessage(input, ctx) {
    const q = queueOf(input, ctx);
    return sendOutput(ctx.store.send(q, sendInput(q, input)));
  },
  SendMessageBatch(input, ctx) {
    const q = queueOf(input, ctx);
    return batch(
      input,
      (e) => sendOutput(ctx.store.send(q, sendInput(q, e))),
      batchSize,
      Number(q.attributes.MaximumMessageSize),
    );
  },
  ReceiveMessage: receiveMessage,
  DeleteMessage(input, ctx) {
    ctx.store.deleteMessage(queueOf(input, ctx), str(input, 'ReceiptHandle', true));
    return {};
  },
  DeleteMessageBatch(input, ctx) {
    const q = queueOf(input, ctx);
    return batch(input, (e) => {
      ctx.store.deleteMessage(q, str(e, 'ReceiptHandle', true));
      return {};
    });
  },
  ChangeMessageVisibility(input, ctx) {
    const q = queueOf(input, ctx);
    const seconds = int(input, 'VisibilityTimeout', 0, 43200);
    if (seconds === undefined) throw missing('VisibilityTimeout');
    ctx.store.changeVisibility(q, str(input, 'ReceiptHandle', true), seconds);
    return {};
  },
  ChangeMessageVisibilityBatch(input, ctx) {
    const q = queueOf(input, ctx);
    return batch(input, (e) => {
      const seconds = int(e, 'VisibilityTimeout', 0, 43200);
      if (seconds === undefined) throw missing('VisibilityTimeout');
      ctx.store.changeVisibility(q, str(e, 'ReceiptHandle', true), seconds);
      return {};
    });
  },
};
