/**
 * The AWS JSON 1.0 protocol, as the AWS SDKs since late 2023 speak it to SQS: `POST /` with
 * `X-Amz-Target: AmazonSQS.<Action>` and a JSON body; errors carry `__type` (the model's shape name)
 * and the query protocol's code in `x-amzn-query-error: <code>;<Sender|Receiver>`.
 */
import { randomUUID } from 'node:crypto';
import { ACTIONS, type ActionContext } from './actions';
import { sqsError, SqsError } from './errors';

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const CONTENT_TYPE = 'application/x-amz-json-1.0';

export function jsonError(err: SqsError, requestId: string): WireResponse {
  return {
    status: err.kind.status,
    headers: {
      'content-type': CONTENT_TYPE,
      'x-amzn-requestid': requestId,
      'x-amzn-query-error': `${err.kind.queryCode};${err.kind.fault}`,
    },
    body: JSON.stringify({ __type: `com.amazonaws.sqs#${err.kind.type}`, message: err.message }),
  };
}

export async function handleJson(target: string, body: string, ctx: ActionContext): Promise<WireResponse> {
  const requestId = randomUUID();
  try {
    const [service, action] = target.split('.');
    const run = service === 'AmazonSQS' ? ACTIONS[action] : undefined;
    if (!run) throw sqsError('UnknownOperation', `Unknown operation ${target}`);
    let input: unknown;
    try {
      input = body.trim() === '' ? {} : JSON.parse(body);
    } catch {
      throw sqsError('InvalidParameterValue', 'The request body is not valid JSON.');
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw sqsError('InvalidParameterValue', 'The request body must be a JSON object.');
    }
    const output = await run(input as Record<string, unknown>, ctx);
    return {
      status: 200,
      headers: { 'content-type': CONTENT_TYPE, 'x-amzn-requestid': requestId },
      body: JSON.stringify(output),
    };
  } catch (e) {
    if (e instanceof SqsError) return jsonError(e, requestId);
    throw e;
  }
}
