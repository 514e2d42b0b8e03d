/**
 * MD5 digests as SQS computes them: of the UTF-8 body, and of message attributes (and system
 * attributes) by AWS's documented algorithm — for each attribute, sorted by name: name, data type,
 * a transport byte (1 string/number, 2 binary) and the value, each length-prefixed (4-byte big endian).
 */
import { createHash } from 'node:crypto';

export interface AttributeValue {
  DataType: string;
  StringValue?: string;
  /** Base64, as both protocols carry it. */
  BinaryValue?: string;
}

export const md5Hex = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

function lengthPrefixed(bytes: Buffer): Buffer[] {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return [len, bytes];
}

/** The MD5 of a set of message attributes; undefined for none (SQS then sends no digest). */
export function md5OfAttributes(attributes: Record<string, AttributeValue> | undefined): string | undefined {
  const names = Object.keys(attributes ?? {}).sort();
  if (!attributes || names.length === 0) return undefined;
  const hash = createHash('md5');
  for (const name of names) {
    const a = attributes[name];
    for (const b of lengthPrefixed(Buffer.from(name, 'utf8'))) hash.update(b);
    for (const b of lengthPrefixed(Buffer.from(a.DataType, 'utf8'))) hash.update(b);
    if (a.StringValue !== undefined) {
      hash.update(Buffer.from([1]));
      for (const b of lengthPrefixed(Buffer.from(a.StringValue, 'utf8'))) hash.update(b);
    } else {
      hash.update(Buffer.from([2]));
      for (const b of lengthPrefixed(Buffer.from(a.BinaryValue ?? '', 'base64'))) hash.update(b);
    }
  }
  return hash.digest('hex');
}
