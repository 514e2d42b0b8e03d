/**
 * The HTTP side of the S3 stand-in: S3's REST protocol, path-style (`/<bucket>/<key>`), on one
 * loopback listener. Every request passes the request guard first (loopback `Host`; a SigV4
 * `Authorization` header, or a presigned URL's query-string signature that has not expired), then
 * one of: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, ListObjects(V2),
 * PutObject, GetObject (ranges, conditions, `response-*` overrides), HeadObject, DeleteObject.
 * Anything else answers S3's `NotImplemented` (501) or `MethodNotAllowed` (405).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkAwsRequest, checkPresignedS3Request, isPresignedRequest } from '../request-guard';
import { decodeAwsChunked, isAwsChunked, verifyIntegrity } from './body';
import { errorXml, S3Error, xmlEscape } from './errors';
import { S3Store, type ObjectMeta } from './store';

export interface S3ServerOptions {
  port: number;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  dataDir?: string;
  now: () => number;
  maxObjectBytes: number;
}

export interface S3Server {
  endpoint: string;
  store: S3Store;
  /** Requests answered since start, by how they were authenticated. */
  requests: { signed: number; presigned: number; refused: number };
  stop(): Promise<void>;
}

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n';
const STORED_HEADERS = [
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'expires',
] as const;
/** Query parameters that do not name a sub-resource (signing, SDK routing hints, GET overrides). */
const PLAIN_PARAMS = /^(?:X-Amz-[A-Za-z0-9-]+|x-id|x-amz-checksum-mode|response-[a-z-]+)$/;
const LIST_PARAMS = new Set([
  'list-type',
  'prefix',
  'delimiter',
  'max-keys',
  'continuation-token',
  'start-after',
  'encoding-type',
  'fetch-owner',
  'marker',
]);
const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-disposition': 'content-disposition',
  'response-content-language': 'content-language',
  'response-content-encoding': 'content-encoding',
  'response-cache-control': 'cache-control',
  'response-expires': 'expires',
};

const iso = (ms: number) => new Date(ms).toISOString();

function readRaw(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new S3Error('EntityTooLarge', { MaxSizeAllowed: String(limit) }));
        req.resume();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Parses `bytes=a-b` / `bytes=a-` / `bytes=-n`; undefined means "serve the whole object". */
function parseRange(value: string | undefined, size: number): [number, number] | undefined {
  const m = value ? /^bytes=(\d*)-(\d*)$/.exec(value.trim()) : null;
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) {
    throw new S3Error('InvalidRange', { RangeRequested: value!, ActualObjectSize: String(size) });
  }
  return [start, end];
}

export async function startS3Server(options: S3ServerOptions): Promise<S3Server> {
  const store = new S3Store(options.dataDir, options.now);
  const requests = { signed: 0, presigned: 0, refused: 0 };

  function objectHeaders(meta: ObjectMeta, checksumMode: boolean): Record<string, string> {
    const headers: Record<string, string> = {
      'content-type': meta.contentType,
      etag: meta.etag,
      'last-modified': new Date(meta.lastModified).toUTCString(),
      'accept-ranges': 'bytes',
    };
    for (const name of STORED_HEADERS) if (meta.headers[name]) headers[name] = meta.headers[name];
    for (const [name, value] of Object.entries(meta.metadata)) headers[`x-amz-meta-${name}`] = value;
    if (meta.sse) {
      headers['x-amz-server-side-encryption'] = meta.sse.algorithm;
      if (meta.sse.kmsKeyId) headers['x-amz-server-side-encryption-aws-kms-key-id'] = meta.sse.kmsKeyId;
    }
    if (checksumMode && meta.checksum) {
      headers[`x-amz-checksum-${meta.checksum.algorithm}`] = meta.checksum.value;
      headers['x-amz-checksum-type'] = 'FULL_OBJECT';
    }
    return headers;
  }

  /** 304/412 per RFC 7232 as S3 applies them, or undefined to go on. */
  function precondition(req: IncomingMessage, meta: ObjectMeta): 304 | 412 | undefined {
    const ifMatch = req.headers['if-match'];
    const ifNoneMatch = req.headers['if-none-match'];
    const since = req.headers['if-modified-since'];
    const unmodifiedSince = req.headers['if-unmodified-since'];
    const tags = (v: string) => v.split(',').map((t) => t.trim());
    if (ifMatch && !tags(ifMatch).some((t) => t === '*' || t === meta.etag)) return 412;
    if (!ifMatch && unmodifiedSince && meta.lastModified > Date.parse(unmodifiedSince)) return 412;
    if (ifNoneMatch && tags(ifNoneMatch).some((t) => t === '*' || t === meta.etag)) return 304;
    if (!ifNoneMatch && since && meta.lastModified <= Date.parse(since)) return 304;
    return undefined;
  }

  function listObjects(bucket: string, query: URLSearchParams): string {
    const v2 = query.get('list-type') === '2';
    const prefix = query.get('prefix') ?? '';
    const delimiter = query.get('delimiter') ?? '';
    const maxKeysText = query.get('max-keys') ?? '1000';
    if (!/^\d+$/.test(maxKeysText)) {
      throw new S3Error(
        'InvalidArgument',
        { ArgumentName: 'max-keys' },
        'Provided max-keys not an integer or within integer range',
      );
    }
    const maxKeys = Math.min(1000, Number(maxKeysText));
    const urlEncoded = query.get('encoding-type') === 'url';
    if (query.has('encoding-type') && !urlEncoded) {
      throw new S3Error(
        'InvalidArgument',
        { ArgumentName: 'encoding-type' },
        'Invalid Encoding Method specified in Request',
      );
    }
    const token = query.get('continuation-token');
    let after = v2 ? (query.get('start-after') ?? '') : (query.get('marker') ?? '');
    if (v2 && token !== null) {
      const decoded = Buffer.from(token, 'base64url').toString('utf8');
      if (!token || !decoded.startsWith('k:')) {
        throw new S3Error(
          'InvalidArgument',
          { ArgumentName: 'continuation-token' },
          'The continuation token provided is incorrect',
        );
      }
      after = decoded.slice(2);
    }
    const enc = (s: string) => xmlEscape(urlEncoded ? encodeURIComponent(s).replace(/%2F/g, '/') : s);
    const contents: ObjectMeta[] = [];
    const prefixes: string[] = [];
    let truncated = false;
    let last = '';
    for (const meta of store.keys(bucket)) {
      if (
        !meta.key.startsWith(prefix) ||
        (after && Buffer.compare(Buffer.from(meta.key), Buffer.from(after)) <= 0)
      ) {
        continue;
      }
      const cut = delimiter ? meta.key.indexOf(delimiter, prefix.length) : -1;
      const common = cut >= 0 ? meta.key.slice(0, cut + delimiter.length) : undefined;
      if (common !== undefined && prefixes.at(-1) === common) continue;
      if (contents.length + prefixes.length >= maxKeys) {
        truncated = true;
        break;
      }
      if (common !== undefined) prefixes.push(common);
      else contents.push(meta);
      last = common ?? meta.key;
    }
    // A common prefix resumes after every key under it.
    const resumeAfter = prefixes.at(-1) === last && last ? `${last}\u{10FFFF}` : last;
    const parts = [
      `<Name>${xmlEscape(bucket)}</Name>`,
      `<Prefix>${enc(prefix)}</Prefix>`,
      v2
        ? `<KeyCount>${contents.length + prefixes.length}</KeyCount>`
        : `<Marker>${enc(query.get('marker') ?? '')}</Marker>`,
      `<MaxKeys>${maxKeys}</MaxKeys>`,
      delimiter ? `<Delimiter>${enc(delimiter)}</Delimiter>` : '',
      `<IsTruncated>${truncated}</IsTruncated>`,
      ...contents.map(
        (m) =>
          `<Contents><Key>${enc(m.key)}</Key><LastModified>${iso(m.lastModified)}</LastModified>` +
          `<ETag>${xmlEscape(m.etag)}</ETag><Size>${m.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
      ),
      ...prefixes.map((p) => `<CommonPrefixes><Prefix>${enc(p)}</Prefix></CommonPrefixes>`),
      v2 && token !== null ? `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>` : '',
      v2 && truncated
        ? `<NextContinuationToken>${Buffer.from(`k:${resumeAfter}`).toString('base64url')}</NextContinuationToken>`
        : '',
      !v2 && truncated && delimiter ? `<NextMarker>${enc(last)}</NextMarker>` : '',
      v2 && query.get('start-after') ? `<StartAfter>${enc(query.get('start-after')!)}</StartAfter>` : '',
      urlEncoded ? '<EncodingType>url</EncodingType>' : '',
    ];
    return `${XML_HEAD}<ListBucketResult xmlns="${XMLNS}">${parts.join('')}</ListBucketResult>`;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
    const declared = Number(
      req.headers['content-length'] ?? req.headers['x-amz-decoded-content-length'] ?? 0,
    );
    if (declared > options.maxObjectBytes) {
      req.resume();
      throw new S3Error('EntityTooLarge', { MaxSizeAllowed: String(options.maxObjectBytes) });
    }
    // aws-chunked framing adds a few bytes per chunk beyond the object's size.
    const raw = await readRaw(req, options.maxObjectBytes + 64 * 1024);

    const presigned = isPresignedRequest(req);
    const refused = presigned
      ? await checkPresignedS3Request(req, { credentials: options.credentials, now: options.now })
      : await checkAwsRequest(req, raw, {
          credentials: options.credentials,
          dialect: 's3',
          now: options.now,
        });
    if (refused) {
      requests.refused += 1;
      throw new S3Error(refused.code, {}, refused.message, refused.status);
    }
    requests[presigned ? 'presigned' : 'signed'] += 1;

    let bucket: string;
    let key: string;
    try {
      const slash = rawPath.indexOf('/', 1);
      bucket = decodeURIComponent(slash < 0 ? rawPath.slice(1) : rawPath.slice(1, slash));
      key = slash < 0 ? '' : decodeURIComponent(rawPath.slice(slash + 1));
    } catch {
      throw new S3Error('InvalidURI', {}, "Couldn't parse the specified URI.", 400);
    }
    const subresources = [...query.keys()].filter(
      (name) => !PLAIN_PARAMS.test(name) && !(key === '' && (LIST_PARAMS.has(name) || name === 'location')),
    );
    if (subresources.length > 0) {
      throw new S3Error(
        'NotImplemented',
        {},
        `The stand-in does not implement the ${subresources.join(', ')} sub-resource (stand-ins/README.md).`,
      );
    }
    const send = (status: number, headers: Record<string, string>, body?: string | Buffer) => {
      res.writeHead(status, { ...headers, ...(body === undefined ? { 'content-length': '0' } : {}) });
      res.end(method === 'HEAD' ? undefined : body);
    };
    const xml = (body: string) => send(200, { 'content-type': 'application/xml' }, body);

    if (!bucket) {
      if (method !== 'GET')
        throw new S3Error('MethodNotAllowed', { Method: method, ResourceType: 'SERVICE' });
      const buckets = store
        .listBuckets()
        .map(
          (b) =>
            `<Bucket><Name>${xmlEscape(b.name)}</Name><CreationDate>${iso(b.creationDate)}</CreationDate></Bucket>`,
        )
        .join('');
      return xml(
        `${XML_HEAD}<ListAllMyBucketsResult xmlns="${XMLNS}"><Owner><ID>${createHash('sha256').update(options.credentials.accessKeyId).digest('hex')}</ID>` +
          `<DisplayName>local</DisplayName></Owner><Buckets>${buckets}</Buckets></ListAllMyBucketsResult>`,
      );
    }

    if (!key) {
      switch (method) {
        case 'PUT': {
          const fresh = store.createBucket(bucket, options.region);
          // us-east-1 answers a repeated CreateBucket by the owner with 200, other regions with 409.
          if (!fresh && options.region !== 'us-east-1')
            throw new S3Error('BucketAlreadyOwnedByYou', { BucketName: bucket });
          return send(200, { location: `/${bucket}` });
        }
        case 'HEAD':
          return send(200, { 'x-amz-bucket-region': store.bucketRegion(bucket) });
        case 'DELETE':
          store.deleteBucket(bucket);
          return send(204, {});
        case 'GET': {
          if (query.has('location')) {
            const region = store.bucketRegion(bucket);
            return xml(
              `${XML_HEAD}<LocationConstraint xmlns="${XMLNS}">${region === 'us-east-1' ? '' : xmlEscape(region)}</LocationConstraint>`,
            );
          }
          return xml(listObjects(bucket, query));
        }
        default:
          throw new S3Error('MethodNotAllowed', { Method: method, ResourceType: 'BUCKET' });
      }
    }

    switch (method) {
      case 'PUT': {
        if (req.headers['x-amz-copy-source']) {
          throw new S3Error(
            'NotImplemented',
            {},
            'CopyObject is not implemented by the stand-in (stand-ins/README.md).',
          );
        }
        if (req.headers['content-length'] === undefined && !isAwsChunked(req.headers)) {
          throw new S3Error('MissingContentLength');
        }
        const { body, trailers } = isAwsChunked(req.headers)
          ? decodeAwsChunked(raw, req.headers)
          : { body: raw, trailers: {} };
        const checksum = verifyIntegrity(body, req.headers, trailers);
        const metadata: Record<string, string> = {};
        const headers: ObjectMeta['headers'] = {};
        for (const [name, value] of Object.entries(req.headers)) {
          if (name.startsWith('x-amz-meta-') && typeof value === 'string') metadata[name.slice(11)] = value;
        }
        for (const name of STORED_HEADERS) {
          const value = req.headers[name];
          if (typeof value !== 'string') continue;
          // aws-chunked is transfer framing, not the object's encoding.
          const kept =
            name === 'content-encoding'
              ? value
                  .split(',')
                  .map((e) => e.trim())
                  .filter((e) => e && e !== 'aws-chunked')
                  .join(',')
              : value;
          if (kept) headers[name] = kept;
        }
        const sseAlgorithm = req.headers['x-amz-server-side-encryption'];
        const kmsKeyId = req.headers['x-amz-server-side-encryption-aws-kms-key-id'];
        const stored = store.put(
          bucket,
          {
            key,
            size: body.length,
            etag: `"${createHash('md5').update(body).digest('hex')}"`,
            contentType: String(req.headers['content-type'] ?? 'binary/octet-stream'),
            metadata,
            headers,
            ...(checksum ? { checksum } : {}),
            ...(typeof sseAlgorithm === 'string'
              ? { sse: { algorithm: sseAlgorithm, ...(typeof kmsKeyId === 'string' ? { kmsKeyId } : {}) } }
              : {}),
          },
          body,
        );
        const out: Record<string, string> = { etag: stored.etag };
        if (checksum) {
          out[`x-amz-checksum-${checksum.algorithm}`] = checksum.value;
          out['x-amz-checksum-type'] = 'FULL_OBJECT';
        }
        if (stored.sse) out['x-amz-server-side-encryption'] = stored.sse.algorithm;
        return send(200, out);
      }
      case 'GET':
      case 'HEAD': {
        const meta = store.head(bucket, key);
        const checksumMode =
          String(req.headers['x-amz-checksum-mode'] ?? query.get('x-amz-checksum-mode') ?? '') === 'ENABLED';
        const headers = objectHeaders(meta, checksumMode);
        const condition = precondition(req, meta);
        if (condition === 412) throw new S3Error('PreconditionFailed', { Condition: 'If-Match' });
        if (condition === 304) {
          return send(304, { etag: meta.etag, 'last-modified': headers['last-modified'] });
        }
        for (const [param, name] of Object.entries(RESPONSE_OVERRIDES)) {
          const value = query.get(param);
          if (value !== null) headers[name] = value;
        }
        const range = parseRange(req.headers.range, meta.size);
        if (method === 'HEAD') {
          return send(200, { ...headers, 'content-length': String(meta.size) }, Buffer.alloc(0));
        }
        const body = store.body(bucket, key);
        if (!range) return send(200, { ...headers, 'content-length': String(body.length) }, body);
        delete headers[`x-amz-checksum-${meta.checksum?.algorithm}`];
        delete headers['x-amz-checksum-type'];
        const part = body.subarray(range[0], range[1] + 1);
        return send(
          206,
          {
            ...headers,
            'content-range': `bytes ${range[0]}-${range[1]}/${meta.size}`,
            'content-length': String(part.length),
          },
          part,
        );
      }
      case 'DELETE':
        store.delete(bucket, key);
        return send(204, {});
      default:
        throw new S3Error('MethodNotAllowed', { Method: method, ResourceType: 'OBJECT' });
    }
  }

  const server = createServer((req, res) => {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('x-amz-id-2', requestId);
    res.setHeader('server', 'AmazonS3');
    handle(req, res).catch((e: unknown) => {
      const error =
        e instanceof S3Error
          ? e
          : new S3Error('InternalError', {}, 'An internal error occurred in the stand-in.');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const isHead = (req.method ?? '').toUpperCase() === 'HEAD';
      const body = isHead ? undefined : errorXml(error, requestId, req.url?.split('?')[0]);
      res.writeHead(error.status, {
        'content-type': 'application/xml',
        'content-length': String(body ? Buffer.byteLength(body) : 0),
      });
      res.end(body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    store,
    requests,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}
