/**
 * Request bodies of the S3 stand-in: `aws-chunked` decoding (what the AWS SDK sends for streams, with
 * the checksum in a trailer) and the integrity checks S3 makes on an upload — `Content-MD5` and the
 * `x-amz-checksum-*` value (CRC32, SHA-1 and SHA-256 recomputed; CRC32C and CRC64NVME accepted as
 * sent, not recomputed).
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { crc32 } from 'node:zlib';
import { S3Error } from './errors';

export interface DecodedBody {
  body: Buffer;
  /** Trailer headers of an `aws-chunked` body (e.g. `x-amz-checksum-crc32`), names lowercased. */
  trailers: Record<string, string>;
}

const CRLF = Buffer.from('\r\n');

/** Whether the body is `aws-chunked` (SigV4 streaming), which must be decoded before use. */
export function isAwsChunked(headers: IncomingHttpHeaders): boolean {
  const sha = String(headers['x-amz-content-sha256'] ?? '');
  const encoding = String(headers['content-encoding'] ?? '');
  return sha.startsWith('STREAMING-') || encoding.split(',').some((e) => e.trim() === 'aws-chunked');
}

/**
 * Decodes an `aws-chunked` body: `<hex size>[;chunk-signature=…]\r\n<bytes>\r\n` … `0…\r\n`, then
 * trailer lines and an empty line. Chunk signatures are not verified (stand-ins/README.md).
 */
export function decodeAwsChunked(raw: Buffer, headers: IncomingHttpHeaders): DecodedBody {
  const parts: Buffer[] = [];
  const trailers: Record<string, string> = {};
  let at = 0;
  const bad = (why: string) =>
    new S3Error('IncompleteBody', {}, `The aws-chunked body is malformed: ${why}.`);
  for (;;) {
    const eol = raw.indexOf(CRLF, at);
    if (eol < 0) throw bad('a chunk header has no line end');
    const size = Number.parseInt(raw.subarray(at, eol).toString('latin1').split(';')[0].trim(), 16);
    if (!Number.isInteger(size) || size < 0) throw bad('a chunk size is not hexadecimal');
    at = eol + 2;
    if (size === 0) break;
    if (at + size + 2 > raw.length) throw bad('a chunk is shorter than its size');
    parts.push(raw.subarray(at, at + size));
    at += size + 2;
  }
  for (const line of raw.subarray(at).toString('latin1').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = Buffer.concat(parts);
  const declared = headers['x-amz-decoded-content-length'];
  if (declared !== undefined && Number(declared) !== body.length) {
    throw new S3Error(
      'IncompleteBody',
      {},
      `x-amz-decoded-content-length says ${String(declared)} bytes; the chunks hold ${body.length}.`,
    );
  }
  return { body, trailers };
}

const CHECKSUMS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;

function computed(algorithm: string, body: Buffer): string | undefined {
  if (algorithm === 'crc32') {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(crc32(body) >>> 0);
    return out.toString('base64');
  }
  if (algorithm === 'sha1' || algorithm === 'sha256')
    return createHash(algorithm).update(body).digest('base64');
  return undefined;
}

/**
 * Checks `Content-MD5` and the `x-amz-checksum-*` header or trailer against `body`; returns the
 * checksum to store (the one sent), or undefined when none was sent.
 */
export function verifyIntegrity(
  body: Buffer,
  headers: IncomingHttpHeaders,
  trailers: Record<string, string>,
): { algorithm: string; value: string } | undefined {
  const md5 = headers['content-md5'];
  if (typeof md5 === 'string') {
    if (Buffer.from(md5, 'base64').length !== 16) throw new S3Error('InvalidDigest');
    if (createHash('md5').update(body).digest('base64') !== md5) throw new S3Error('BadDigest');
  }
  let found: { algorithm: string; value: string } | undefined;
  for (const algorithm of CHECKSUMS) {
    const name = `x-amz-checksum-${algorithm}`;
    const value = trailers[name] ?? (headers[name] as string | undefined);
    if (value === undefined) continue;
    if (found) {
      throw new S3Error(
        'InvalidRequest',
        {},
        'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
        400,
      );
    }
    const expected = computed(algorithm, body);
    if (expected !== undefined && expected !== value) {
      throw new S3Error(
        'BadDigest',
        {},
        `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`,
      );
    }
    found = { algorithm, value };
  }
  return found;
}
