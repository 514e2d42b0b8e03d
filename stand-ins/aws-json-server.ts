/**
 * The HTTP side of a stand-in that speaks AWS JSON 1.1 (`POST /`, `x-amz-target: <Service>.<Operation>`,
 * a JSON object body; errors as `{"__type", "message"}` with a 4xx/5xx status): the body limit, the
 * request guard (stand-ins/request-guard.ts: loopback, SigV4), the operation lookup, JSON parsing and the
 * answer with its `x-amzn-requestid`. The Secrets Manager and EventBridge stand-ins are built on it.
 * @example
 * const server = await serveAwsJson({
 *   credentials, maxBodyBytes: 1024 * 1024, tooLargeCode: 'ValidationException',
 *   internalErrorCode: 'InternalException',
 *   operation: (target) => (target === 'AWSEvents.PutEvents' ? putEvents : undefined),
 * });
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkAwsRequest } from './request-guard';

/** An AWS error answer: `type` is the `__type` clients map to an exception name. */
export class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export type AwsJsonOperation = (input: Record<string, unknown>, req: http.IncomingMessage) => unknown;

export interface AwsJsonServerOptions {
  port?: number;
  credentials: { accessKeyId: string; secretAccessKey: string };
  maxBodyBytes: number;
  /** The `__type` a body over `maxBodyBytes` gets (services differ). */
  tooLargeCode: string;
  /** The `__type` of an unexpected failure, answered without detail (a message could quote a secret). */
  internalErrorCode: string;
  /** The operation an `x-amz-target` names, or undefined (→ `UnknownOperationException`). */
  operation(target: string): AwsJsonOperation | undefined;
}

export interface AwsJsonServer {
  endpoint: string;
  stop(): Promise<void>;
}

export async function serveAwsJson(options: AwsJsonServerOptions): Promise<AwsJsonServer> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= options.maxBodyBytes) chunks.push(c);
    });
    req.on('end', () => void answer(req, res, size, Buffer.concat(chunks)));
  });
  const answer = async (req: http.IncomingMessage, res: http.ServerResponse, size: number, body: Buffer) => {
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': randomUUID(),
      });
      res.end(JSON.stringify(payload));
    };
    try {
      if (size > options.maxBodyBytes) throw new AwsError(options.tooLargeCode, 'Request body too large.');
      const refused = await checkAwsRequest(req, body, { credentials: options.credentials });
      if (refused) throw new AwsError(refused.code, refused.message, refused.status);
      const target = String(req.headers['x-amz-target'] ?? '');
      const op = req.method === 'POST' ? options.operation(target) : undefined;
      if (!op)
        throw new AwsError(
          'UnknownOperationException',
          `Unknown operation ${target || '(no x-amz-target)'}.`,
        );
      let input: unknown;
      try {
        input = JSON.parse(body.toString('utf8') || '{}');
      } catch {
        throw new AwsError('SerializationException', 'The request body is not valid JSON.');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input))
        throw new AwsError('SerializationException', 'The request body must be a JSON object.');
      send(200, await op(input as Record<string, unknown>, req));
    } catch (e) {
      if (e instanceof AwsError) send(e.status, { __type: e.type, message: e.message });
      else
        send(500, {
          __type: options.internalErrorCode,
          message: 'An internal error occurred in the stand-in.',
        });
    }
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}
