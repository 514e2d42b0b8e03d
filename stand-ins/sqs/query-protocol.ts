/**
 * The AWS query protocol, as AWS CLI 1.x/2.x before JSON support, boto3 before 1.28.x and older SDKs
 * speak it to SQS: a form-encoded `Action=...&Version=2012-11-05&...` (POST body or GET query),
 * flattened lists and maps (`Attribute.1.Name`, `MessageAttribute.1.Value.StringValue`,
 * `SendMessageBatchRequestEntry.2.MessageBody`), and XML answers in the 2012-11-05 namespace; errors
 * are `<ErrorResponse><Error><Type/><Code/><Message/>` with the query code. Requests are converted
 * to the JSON protocol's shape and run by the same actions.
 */
import { randomUUID } from 'node:crypto';
import { ACTIONS, type ActionContext, type Input, type Output } from './actions';
import { sqsError, SqsError } from './errors';
import type { WireResponse } from './json-protocol';

const XMLNS = 'http://queue.amazonaws.com/doc/2012-11-05/';

type Tree = { [key: string]: Tree | string };

/** `A.1.B=x&A.2.B=y` → { A: { '1': { B: 'x' }, '2': { B: 'y' } } } */
function nest(params: URLSearchParams): Tree {
  const root: Tree = {};
  for (const [key, value] of params) {
    const path = key.split('.');
    let node = root;
    for (let i = 0; i < path.length - 1; i++) {
      const next = node[path[i]];
      if (typeof next === 'object') node = next;
      else node = node[path[i]] = {};
    }
    node[path[path.length - 1]] = value;
  }
  return root;
}

const listOf = (t: Tree | string): Tree[] | string[] =>
  typeof t === 'string'
    ? [t]
    : (Object.keys(t)
        .filter((k) => /^\d+$/.test(k))
        .sort((a, b) => Number(a) - Number(b))
        .map((k) => t[k]) as Tree[] | string[]);

const NUMBERS = ['DelaySeconds', 'MaxNumberOfMessages', 'WaitTimeSeconds', 'VisibilityTimeout', 'MaxResults'];
const STRING_LISTS: Record<string, string> = {
  AttributeName: 'AttributeNames',
  MessageSystemAttributeName: 'MessageSystemAttributeNames',
  MessageAttributeName: 'MessageAttributeNames',
  TagKey: 'TagKeys',
};

/** The flattened query names → the JSON protocol's input shape. */
function toInput(t: Tree, action: string): Input {
  const out: Input = {};
  for (const [key, value] of Object.entries(t)) {
    if (key === 'Action' || key === 'Version') continue;
    if (STRING_LISTS[key]) {
      out[STRING_LISTS[key]] = listOf(value);
    } else if (key === 'Attribute') {
      out.Attributes = Object.fromEntries((listOf(value) as Tree[]).map((a) => [a.Name, a.Value]));
    } else if (key === 'Tag') {
      out[action === 'CreateQueue' ? 'tags' : 'Tags'] = Object.fromEntries(
        (listOf(value) as Tree[]).map((a) => [a.Key, a.Value]),
      );
    } else if (key === 'MessageAttribute' || key === 'MessageSystemAttribute') {
      out[`${key}s`] = Object.fromEntries(
        (listOf(value) as Tree[]).map((a) => {
          const v = (typeof a.Value === 'object' ? a.Value : {}) as Record<string, string>;
          return [a.Name, { DataType: v.DataType, StringValue: v.StringValue, BinaryValue: v.BinaryValue }];
        }),
      );
    } else if (key.endsWith('RequestEntry')) {
      out.Entries = (listOf(value) as Tree[]).map((e) => toInput(e, action));
    } else if (typeof value === 'string') {
      out[key] = NUMBERS.includes(key) && /^-?\d+$/.test(value) ? Number(value) : value;
    } else {
      throw sqsError('InvalidParameterValue', `Parameter ${key} is not valid for ${action}.`);
    }
  }
  return out;
}

const escapeXml = (s: string) =>
  s.replace(
    /[&<>"'\r]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#xD;' })[c]!,
  );

const el = (name: string, inner: string) => `<${name}>${inner}</${name}>`;

/** The JSON protocol's output shape → the query protocol's (flattened) XML. */
function toXml(value: Output, action: string): string {
  let xml = '';
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    if (key === 'Attributes' || key === 'Tags') {
      const [tag, k] = key === 'Attributes' ? ['Attribute', 'Name'] : ['Tag', 'Key'];
      for (const [name, val] of Object.entries(v as Record<string, string>)) {
        xml += el(tag, el(k, escapeXml(name)) + el('Value', escapeXml(String(val))));
      }
    } else if (key === 'MessageAttributes') {
      for (const [name, a] of Object.entries(v as Record<string, Output>)) {
        xml += el('MessageAttribute', el('Name', escapeXml(name)) + el('Value', toXml(a, action)));
      }
    } else if (Array.isArray(v)) {
      const tag =
        key === 'QueueUrls' || key === 'queueUrls'
          ? 'QueueUrl'
          : key === 'Messages'
            ? 'Message'
            : key === 'Successful'
              ? `${action}ResultEntry`
              : key === 'Failed'
                ? 'BatchResultErrorEntry'
                : key;
      for (const item of v as unknown[]) {
        xml += el(tag, typeof item === 'object' ? toXml(item as Output, action) : escapeXml(String(item)));
      }
    } else if (typeof v === 'object') {
      xml += el(key, toXml(v as Output, action));
    } else {
      xml += el(key, escapeXml(String(v)));
    }
  }
  return xml;
}

export function queryError(err: SqsError, requestId: string): WireResponse {
  const body =
    `<?xml version="1.0"?><ErrorResponse xmlns="${XMLNS}">` +
    el(
      'Error',
      el('Type', err.kind.fault) +
        el('Code', err.kind.queryCode) +
        el('Message', escapeXml(err.message)) +
        '<Detail/>',
    ) +
    el('RequestId', requestId) +
    '</ErrorResponse>';
  return {
    status: err.kind.status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body,
  };
}

/**
 * Runs one query-protocol request. `path` is the request path: clients that post to the queue URL
 * itself (older SDKs) name the queue there instead of in `QueueUrl`.
 */
export async function handleQuery(
  params: URLSearchParams,
  path: string,
  ctx: ActionContext,
): Promise<WireResponse> {
  const requestId = randomUUID();
  try {
    const action = params.get('Action');
    if (!action) throw sqsError('MissingAction', 'The request must contain the parameter Action.');
    const run = ACTIONS[action];
    if (!run) throw sqsError('InvalidAction', `The action ${action} is not valid for this web service.`);
    const input = toInput(nest(params), action);
    if (
      input.QueueUrl === undefined &&
      path.split('/').filter(Boolean).length >= 1 &&
      !['CreateQueue', 'GetQueueUrl', 'ListQueues'].includes(action)
    ) {
      input.QueueUrl = `${ctx.baseUrl}${path}`;
    }
    const output = await run(input, ctx);
    const result = toXml(output, action);
    const body =
      `<?xml version="1.0"?><${action}Response xmlns="${XMLNS}">` +
      (result ||
      [
        'ListQueues',
        'ReceiveMessage',
        'GetQueueAttributes',
        'ListQueueTags',
        'ListDeadLetterSourceQueues',
      ].includes(action)
        ? el(`${action}Result`, result)
        : '') +
      el('ResponseMetadata', el('RequestId', requestId)) +
      `</${action}Response>`;
    return { status: 200, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body };
  } catch (e) {
    if (e instanceof SqsError) return queryError(e, requestId);
    throw e;
  }
}
