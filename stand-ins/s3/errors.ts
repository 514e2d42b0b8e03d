/**
 * S3's errors as the stand-in answers them: S3's codes, HTTP statuses and messages, rendered as S3's
 * XML `<Error>` document (no body on HEAD, as S3 sends none).
 */

/** S3's status and message per code (the codes the stand-in can answer). */
const CODES: Record<string, [number, string]> = {
  NoSuchBucket: [404, 'The specified bucket does not exist'],
  NoSuchKey: [404, 'The specified key does not exist.'],
  InvalidBucketName: [400, 'The specified bucket is not valid.'],
  BucketAlreadyOwnedByYou: [
    409,
    'Your previous request to create the named bucket succeeded and you already own it.',
  ],
  BucketNotEmpty: [409, 'The bucket you tried to delete is not empty'],
  KeyTooLongError: [400, 'Your key is too long'],
  EntityTooLarge: [400, 'Your proposed upload exceeds the maximum allowed size'],
  MissingContentLength: [411, 'You must provide the Content-Length HTTP header.'],
  BadDigest: [
    400,
    'The Content-MD5 or checksum value that you specified did not match what the server received.',
  ],
  InvalidDigest: [400, 'The Content-MD5 or checksum value that you specified is not valid.'],
  InvalidRange: [416, 'The requested range is not satisfiable'],
  PreconditionFailed: [412, 'At least one of the pre-conditions you specified did not hold'],
  MethodNotAllowed: [405, 'The specified method is not allowed against this resource.'],
  NotImplemented: [501, 'A header you provided implies functionality that is not implemented'],
  InvalidArgument: [400, 'Invalid Argument'],
  IncompleteBody: [
    400,
    'You did not provide the number of bytes specified by the Content-Length HTTP header.',
  ],
  InternalError: [500, 'We encountered an internal error. Please try again.'],
};

/** An S3 error with extra elements for the `<Error>` document (e.g. `Key`, `BucketName`). */
export class S3Error extends Error {
  readonly status: number;

  constructor(
    readonly code: string,
    readonly extra: Record<string, string> = {},
    message?: string,
    status?: number,
  ) {
    const [defaultStatus, defaultMessage] = CODES[code] ?? [400, code];
    super(message ?? defaultMessage);
    this.name = 'S3Error';
    this.status = status ?? defaultStatus;
  }
}

export const xmlEscape = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!,
  );

/** S3's `<Error>` document for `error`. */
export function errorXml(error: S3Error, requestId: string, resource?: string): string {
  const extra = Object.entries(error.extra)
    .map(([name, value]) => `<${name}>${xmlEscape(value)}</${name}>`)
    .join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${error.code}</Code><Message>${xmlEscape(error.message)}</Message>${extra}` +
    `${resource ? `<Resource>${xmlEscape(resource)}</Resource>` : ''}` +
    `<RequestId>${requestId}</RequestId><HostId>${requestId}</HostId></Error>`
  );
}
