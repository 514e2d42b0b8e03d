/**
 * The one request guard of the local AWS stand-ins (Secrets Manager, SQS, S3): the checks AWS makes
 * before a request reaches the service, so a local stand-in is no easier to reach than the real one.
 *
 * 1. The `Host` header must name loopback (`127.0.0.1`, `localhost`, `[::1]`, any port). A web page
 *    that rebinds its own DNS name to 127.0.0.1 reaches the port, but its requests carry its own
 *    name in `Host`, and are refused (issue 15, "DNS rebinding").
 * 2. An `Authorization: AWS4-HMAC-SHA256 ...` header must be present, name the configured access key
 *    id, and carry the signature recomputed here over the request (method, path, query, the signed
 *    headers, the body's SHA-256) with the configured secret, by `@smithy/signature-v4`, the signer
 *    the SDK itself uses. `x-amz-date` may be at most 15 minutes from the stand-in's clock, as in AWS.
 *    For S3 (`s3` in the credential scope) the path is not re-encoded and `x-amz-content-sha256` must
 *    match the body unless it says `UNSIGNED-PAYLOAD` or `STREAMING-...` (chunk signatures of
 *    `aws-chunked` bodies are not checked). Presigned URLs (query-string auth) are checked by
 *    {@link checkPresignedS3Request}, for S3 only, as AWS accepts them only there.
 *
 * Errors come back as `{ status, code, message }` in the dialect of the calling service, with AWS's
 * codes; render them in the service's error shape. Messages never contain the secret key.
 *
 * @example
 * // inside an http.createServer handler, once the body is read:
 * const refused = await checkAwsRequest(req, body, { credentials, dialect: 'json' });
 * if (refused) return sendError(refused.status, refused.code, refused.message);
 */
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** What {@link checkAwsRequest} needs of a request: Node's `http.IncomingMessage` fits. */
export interface GuardedRequest {
  method?: string;
  /** Path and query as received, e.g. `/bucket/key?uploads` */
  url?: string;
  headers: IncomingHttpHeaders;
}

/** Options for {@link checkAwsRequest}. */
export interface RequestGuardOptions {
  /** The only key pair the stand-in accepts (`local.json` `credentials`). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /**
   * Which family of AWS error codes to answer with. `json`: JSON 1.0/1.1 services (Secrets Manager,
   * SQS's JSON protocol) — `UnrecognizedClientException` and friends, 400. `query`: query-protocol
   * services (SQS's XML protocol) — `InvalidClientTokenId`, `SignatureDoesNotMatch`, 403. `s3`:
   * `InvalidAccessKeyId`, `SignatureDoesNotMatch`, `AccessDenied`, 403. @default 'json'
   */
  dialect?: 'json' | 'query' | 's3';
  /** The stand-in's clock in epoch ms, for the 15-minute skew check. @default Date.now */
  now?: () => number;
}

/** Why a request was refused; `code` and `message` go into the service's error body. */
export interface GuardRefusal {
  status: number;
  code: string;
  message: string;
}

/** AWS allows signatures up to 15 minutes off its clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

const LOOPBACK_HOST = /^(?:127\.0\.0\.1|localhost|\[::1\])(?::\d{1,5})?$/i;
const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

type Reason =
  'foreignHost' | 'missing' | 'malformed' | 'unknownKey' | 'badSignature' | 'skewed' | 'badBodyHash';

/** AWS's code per reason and dialect (status, code); messages are AWS's where it has one. */
const CODES: Record<Reason, Record<'json' | 'query' | 's3', [number, string]>> = {
  foreignHost: {
    json: [403, 'AccessDeniedException'],
    query: [403, 'AccessDenied'],
    s3: [403, 'AccessDenied'],
  },
  missing: {
    json: [400, 'MissingAuthenticationTokenException'],
    query: [403, 'MissingAuthenticationToken'],
    s3: [403, 'AccessDenied'],
  },
  malformed: {
    json: [400, 'IncompleteSignatureException'],
    query: [400, 'IncompleteSignature'],
    s3: [400, 'AuthorizationHeaderMalformed'],
  },
  unknownKey: {
    json: [400, 'UnrecognizedClientException'],
    query: [403, 'InvalidClientTokenId'],
    s3: [403, 'InvalidAccessKeyId'],
  },
  badSignature: {
    json: [400, 'InvalidSignatureException'],
    query: [403, 'SignatureDoesNotMatch'],
    s3: [403, 'SignatureDoesNotMatch'],
  },
  skewed: {
    json: [400, 'InvalidSignatureException'],
    query: [403, 'SignatureDoesNotMatch'],
    s3: [403, 'RequestTimeTooSkewed'],
  },
  badBodyHash: {
    json: [400, 'InvalidSignatureException'],
    query: [403, 'SignatureDoesNotMatch'],
    s3: [400, 'XAmzContentSHA256Mismatch'],
  },
};

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** `20261207T123000Z` → epoch ms, or undefined when it is not that shape. */
function parseAmzDate(value: string | undefined): number | undefined {
  const m = value ? AMZ_DATE.exec(value) : null;
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number);
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The raw query as the signer wants it: decoded names and values, repeated names as arrays. */
function parseQuery(raw: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const part of raw.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    const prev = query[name];
    query[name] = prev === undefined ? value : ([] as string[]).concat(prev, value);
  }
  return query;
}

const sameText = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * Checks one request to a local AWS stand-in: loopback `Host`, then a SigV4 signature by the
 * configured key over the request and `body` (the raw bytes as received; empty for none).
 * Resolves to undefined when the request may proceed, else to the refusal to answer with.
 */
export async function checkAwsRequest(
  req: GuardedRequest,
  body: Uint8Array | string | undefined,
  options: RequestGuardOptions,
): Promise<GuardRefusal | undefined> {
  const dialect = options.dialect ?? 'json';
  const refuse = (reason: Reason, message: string): GuardRefusal => {
    const [status, code] = CODES[reason][dialect];
    return { status, code, message };
  };

  const host = header(req.headers, 'host') ?? '';
  if (!LOOPBACK_HOST.test(host)) {
    return refuse(
      'foreignHost',
      `Host ${JSON.stringify(host.slice(0, 100))} is not loopback; this local stand-in answers only requests addressed to 127.0.0.1, localhost or [::1].`,
    );
  }

  const authorization = header(req.headers, 'authorization');
  if (!authorization) return refuse('missing', 'Missing Authentication Token');
  const auth = AUTH_PATTERN.exec(authorization.trim());
  if (!auth) {
    return refuse(
      'malformed',
      "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters of AWS4-HMAC-SHA256.",
    );
  }
  const [, credential, signedHeaderList, signature] = auth;
  const scope = credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request') {
    return refuse(
      'malformed',
      'Credential must have the form <key id>/<date>/<region>/<service>/aws4_request.',
    );
  }
  const [accessKeyId, scopeDate, region, service] = scope;
  if (!sameText(accessKeyId, options.credentials.accessKeyId)) {
    return refuse(
      'unknownKey',
      dialect === 's3'
        ? 'The AWS Access Key Id you provided does not exist in our records.'
        : 'The security token included in the request is invalid.',
    );
  }

  const amzDate = header(req.headers, 'x-amz-date');
  const signedAt = parseAmzDate(amzDate);
  const signedHeaders = signedHeaderList.split(';');
  if (signedAt === undefined || !signedHeaders.includes('x-amz-date') || !signedHeaders.includes('host')) {
    return refuse(
      'malformed',
      'The request must carry a signed X-Amz-Date header (yyyyMMddTHHmmssZ) and a signed Host header.',
    );
  }
  if (scopeDate !== amzDate!.slice(0, 8)) {
    return refuse(
      'badSignature',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${amzDate!.slice(0, 8)}'.`,
    );
  }
  const now = (options.now ?? Date.now)();
  if (Math.abs(now - signedAt) > MAX_CLOCK_SKEW_MS) {
    const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '');
    return refuse(
      'skewed',
      signedAt < now
        ? `Signature expired: ${amzDate} is now earlier than ${stamp(now - MAX_CLOCK_SKEW_MS)} (${stamp(now)} - 15 min.)`
        : `Signature not yet current: ${amzDate} is still later than ${stamp(now + MAX_CLOCK_SKEW_MS)} (${stamp(now)} + 15 min.)`,
    );
  }

  const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body ?? new Uint8Array());
  const contentSha = header(req.headers, 'x-amz-content-sha256');
  if (
    contentSha !== undefined &&
    contentSha !== 'UNSIGNED-PAYLOAD' &&
    !contentSha.startsWith('STREAMING-') &&
    contentSha !== createHash('sha256').update(bytes).digest('hex')
  ) {
    return refuse(
      'badBodyHash',
      'The provided x-amz-content-sha256 header does not match what was computed.',
    );
  }

  const url = req.url ?? '/';
  const q = url.indexOf('?');
  let query: Record<string, string | string[]>;
  try {
    query = parseQuery(q < 0 ? '' : url.slice(q + 1));
  } catch {
    return refuse('badSignature', 'The query string is not valid percent-encoding.');
  }
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = header(req.headers, name);
    if (value !== undefined) headers[name] = value;
  }
  const signer = new SignatureV4({
    credentials: options.credentials,
    region,
    service,
    sha256: Sha256,
    uriEscapePath: service !== 's3',
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: (req.method ?? 'GET').toUpperCase(),
      protocol: 'http:',
      hostname: host.replace(/:\d+$/, ''),
      path: q < 0 ? url : url.slice(0, q),
      query,
      headers,
      body: bytes,
    },
    { signingDate: new Date(signedAt), signableHeaders: new Set(signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1] ?? '';
  if (!sameText(expected, signature)) {
    return refuse(
      'badSignature',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }
  return undefined;
}

/** S3 refuses presigned URLs valid longer than 7 days (`X-Amz-Expires` in seconds). */
export const MAX_PRESIGN_EXPIRES_SECONDS = 7 * 24 * 3600;

const PRESIGN_PARAMS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
] as const;

/** RFC 3986 encoding as SigV4 wants it: everything but `A-Za-z0-9-_.~` percent-encoded. */
const sigv4Encode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Whether a request carries query-string authentication (a presigned URL) rather than a header. */
export function isPresignedRequest(req: GuardedRequest): boolean {
  const url = req.url ?? '/';
  return /[?&]X-Amz-(?:Signature|Algorithm|Credential)=/.test(url) || /[?&]Signature=/.test(url);
}

/**
 * Checks a presigned S3 URL (SigV4 query-string authentication) as S3 does: loopback `Host`; every
 * `X-Amz-*` parameter present; the key id; `X-Amz-Expires` 1..604800; not used before `X-Amz-Date`
 * (15 minutes' skew allowed) nor after `X-Amz-Date + X-Amz-Expires`; and the signature recomputed
 * over method, path as sent, every other query parameter, the signed headers and `UNSIGNED-PAYLOAD`.
 * Signature version 2 URLs (`AWSAccessKeyId`/`Signature`/`Expires`) are refused, as S3 does for
 * buckets created since 2020. Resolves to undefined when the request may proceed.
 */
export async function checkPresignedS3Request(
  req: GuardedRequest,
  options: Omit<RequestGuardOptions, 'dialect'>,
): Promise<GuardRefusal | undefined> {
  const host = header(req.headers, 'host') ?? '';
  if (!LOOPBACK_HOST.test(host)) {
    return {
      status: 403,
      code: 'AccessDenied',
      message: `Host ${JSON.stringify(host.slice(0, 100))} is not loopback; this local stand-in answers only requests addressed to 127.0.0.1, localhost or [::1].`,
    };
  }
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const pairs: Array<[string, string]> = [];
  try {
    for (const part of (q < 0 ? '' : url.slice(q + 1)).split('&')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      const decode = (s: string) => decodeURIComponent(s);
      pairs.push([decode(eq < 0 ? part : part.slice(0, eq)), eq < 0 ? '' : decode(part.slice(eq + 1))]);
    }
  } catch {
    return {
      status: 400,
      code: 'InvalidArgument',
      message: 'The query string is not valid percent-encoding.',
    };
  }
  const param = (name: string) => pairs.find(([n]) => n === name)?.[1];
  if (
    param('AWSAccessKeyId') !== undefined ||
    (param('Signature') !== undefined && !param('X-Amz-Signature'))
  ) {
    return {
      status: 400,
      code: 'InvalidRequest',
      message: 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
    };
  }
  if (PRESIGN_PARAMS.some((name) => !param(name))) {
    return {
      status: 400,
      code: 'AuthorizationQueryParametersError',
      message:
        'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    };
  }
  if (param('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') {
    return {
      status: 400,
      code: 'AuthorizationQueryParametersError',
      message: 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
    };
  }
  const scope = param('X-Amz-Credential')!.split('/');
  const amzDate = param('X-Amz-Date')!;
  const signedAt = parseAmzDate(amzDate);
  const expiresText = param('X-Amz-Expires')!;
  const expires = /^\d{1,7}$/.test(expiresText) ? Number(expiresText) : NaN;
  const signedHeaders = param('X-Amz-SignedHeaders')!.split(';');
  if (scope.length !== 5 || scope[3] !== 's3' || scope[4] !== 'aws4_request') {
    return {
      status: 400,
      code: 'AuthorizationQueryParametersError',
      message: 'X-Amz-Credential must have the form <key id>/<date>/<region>/s3/aws4_request.',
    };
  }
  if (signedAt === undefined || scope[1] !== amzDate.slice(0, 8)) {
    return {
      status: 400,
      code: 'AuthorizationQueryParametersError',
      message:
        "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\" and match the credential scope date.",
    };
  }
  if (!(expires >= 1)) {
    return {
      status: 400,
      code: 'AuthorizationQueryParametersError',
      message: 'X-Amz-Expires should be a number',
    };
  }
  if (expires > MAX_PRESIGN_EXPIRES_SECONDS) {
    return {
      status: 400,
      code: 'AuthorizationQueryParametersError',
      message: 'X-Amz-Expires must be less than a week (in seconds) that is 604800',
    };
  }
  if (!signedHeaders.includes('host')) {
    return {
      status: 400,
      code: 'AuthorizationQueryParametersError',
      message: 'X-Amz-SignedHeaders must contain host.',
    };
  }
  const [accessKeyId, scopeDate, region] = scope;
  if (!sameText(accessKeyId, options.credentials.accessKeyId)) {
    return {
      status: 403,
      code: 'InvalidAccessKeyId',
      message: 'The AWS Access Key Id you provided does not exist in our records.',
    };
  }
  const now = (options.now ?? Date.now)();
  if (now + MAX_CLOCK_SKEW_MS < signedAt) {
    return { status: 403, code: 'AccessDenied', message: 'Request is not valid yet' };
  }
  if (now > signedAt + expires * 1000) {
    return { status: 403, code: 'AccessDenied', message: 'Request has expired' };
  }

  const canonicalQuery = pairs
    .filter(([name]) => name !== 'X-Amz-Signature')
    .map(([name, value]) => [sigv4Encode(name), sigv4Encode(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const canonicalHeaders = [...signedHeaders]
    .sort()
    .map((name) => `${name}:${(header(req.headers, name) ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonicalRequest = [
    (req.method ?? 'GET').toUpperCase(),
    rawPath,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders.join(';'),
    'UNSIGNED-PAYLOAD',
  ].join('\n');
  const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');
  const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    `${scopeDate}/${region}/s3/aws4_request`,
    sha256Hex(canonicalRequest),
  ].join('\n');
  const signingKey = hmac(
    hmac(hmac(hmac(`AWS4${options.credentials.secretAccessKey}`, scopeDate), region), 's3'),
    'aws4_request',
  );
  const expected = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
  if (!sameText(expected, param('X-Amz-Signature')!)) {
    return {
      status: 403,
      code: 'SignatureDoesNotMatch',
      message:
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    };
  }
  return undefined;
}
