/**
 * The HTTP side of the SQS stand-in: one loopback listener that answers both wire protocols SQS
 * clients speak — AWS JSON 1.0 (`X-Amz-Target: AmazonSQS.*`, current SDKs) and the query protocol
 * (form-encoded `Action=`, XML; AWS CLI 2.9 / boto3 1.26 and older SDKs) — over one store, and saves
 * the store to `dataFile` periodically and on stop.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ActionContext } from './actions';
import { sqsError, SqsError } from './errors';
import { handleJson, jsonError, type WireResponse } from './json-protocol';
import { handleQuery, queryError } from './query-protocol';
import { restoreSnapshot, takeSnapshot, writeAtomically } from './snapshot';
import { SqsStore } from './store';

export interface SqsServerOptions {
  port: number;
  region: string;
  now?: () => number;
  dataFile?: string;
  snapshotIntervalMs: number;
  /**
   * Checks a request once its body is read (Host, SigV4 Authorization) in the error dialect of its
   * protocol; resolves to a refusal to answer with, or undefined to go on.
   */
  guard?: (
    req: IncomingMessage,
    body: string,
    dialect: 'json' | 'query',
  ) => Promise<{ status: number; code: string; message: string } | undefined>;
}

export interface SqsServer {
  endpoint: string;
  store: SqsStore;
  /** Requests answered per wire protocol since start. */
  requests: { json: number; query: number };
  save(): void;
  stop(): Promise<void>;
}

/** SQS caps a request at 1 MiB of message plus attributes; leave room for encoding and batches. */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BYTES) {
        reject(sqsError('InvalidParameterValue', `The request is larger than ${MAX_REQUEST_BYTES} bytes.`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startSqsServer(options: SqsServerOptions): Promise<SqsServer> {
  const store = new SqsStore({ region: options.region, now: options.now });
  if (options.dataFile) restoreSnapshot(store, options.dataFile);
  const requests = { json: 0, query: 0 };
  const stopping = new AbortController();
  let baseUrl = '';

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<WireResponse> {
    const url = new URL(req.url ?? '/', baseUrl);
    const contentType = String(req.headers['content-type'] ?? '');
    const target = req.headers['x-amz-target'];
    const isJson = contentType.startsWith('application/x-amz-json') || typeof target === 'string';
    const body = await readBody(req);
    const refusal = await options.guard?.(req, body, isJson ? 'json' : 'query');
    if (refusal) {
      const err = new SqsError(
        { type: refusal.code, queryCode: refusal.code, status: refusal.status, fault: 'Sender' },
        refusal.message,
      );
      return isJson ? jsonError(err, 'refused') : queryError(err, 'refused');
    }
    const client = new AbortController();
    res.on('close', () => client.abort());
    const ctx: ActionContext = { store, baseUrl, signal: AbortSignal.any([client.signal, stopping.signal]) };
    if (isJson) {
      requests.json++;
      return handleJson(typeof target === 'string' ? target : '', body, ctx);
    }
    requests.query++;
    const params = new URLSearchParams(url.search);
    if (req.method === 'POST') for (const [k, v] of new URLSearchParams(body)) params.append(k, v);
    return handleQuery(params, url.pathname, ctx);
  }

  const server = createServer((req, res) => {
    answer(req, res)
      .catch((e: unknown) => {
        const err =
          e instanceof SqsError
            ? e
            : sqsError('InternalFailure', 'The request processing has failed because of an unknown error.');
        return String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json')
          ? jsonError(err, 'failed')
          : queryError(err, 'failed');
      })
      .then((out) => {
        if (res.destroyed) return;
        res.writeHead(out.status, { ...out.headers, 'content-length': Buffer.byteLength(out.body) });
        res.end(out.body);
      });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let savedVersion = -1;
  let lastSaved = '';
  const save = () => {
    if (!options.dataFile || store.version === savedVersion) return;
    const version = store.version;
    const text = takeSnapshot(store);
    if (text !== lastSaved) writeAtomically(options.dataFile, text);
    lastSaved = text;
    savedVersion = version;
  };
  const timer = options.dataFile
    ? setInterval(() => {
        try {
          save();
        } catch {
          // A failed periodic save is retried on the next tick and on stop(), where it throws.
        }
      }, options.snapshotIntervalMs)
    : undefined;
  timer?.unref();

  let stopped: Promise<void> | undefined;
  return {
    endpoint: baseUrl,
    store,
    requests,
    save,
    stop() {
      stopped ??= (async () => {
        if (timer) clearInterval(timer);
        stopping.abort(); // pending long polls answer (empty) now
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          setImmediate(() => server.closeIdleConnections());
          setTimeout(() => server.closeAllConnections(), 200).unref();
        });
        save();
      })();
      return stopped;
    },
  };
}
