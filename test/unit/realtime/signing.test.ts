/**
 * X's CRC answer and body signature (X-API.md §7, §9): the construction X documents, constant-time
 * verification over the raw bytes, and no signing oracle.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { crcResponseToken, crcTokenProblem, signBody, verifySignature } from '../../../core/realtime/signing';

const SECRET = 'api-key-secret-for-tests-0001';
const xSignature = (message: string | Buffer, key = SECRET) =>
  'sha256=' + createHmac('sha256', key).update(message).digest('base64');

describe('crcResponseToken', () => {
  it('answers sha256= + base64 HMAC-SHA256 of the token keyed by the API key secret', () => {
    // Prepare
    const token = 'Q2hhbGxlbmdlVG9rZW5Gcm9tWA==';
    // Act
    const answer = crcResponseToken(token, SECRET);
    // Assess
    expect(answer).toBe(xSignature(token));
  });

  it.each([
    ['a JSON event body', '{"data":{"event_type":"dm.received"}}'],
    ['a JSON array', '["a","b","c","d","e","f","g"]'],
    ['a bare number (parses as JSON)', '12345678901234567890'],
    ['too short', 'abc'],
    ['too long', 'a'.repeat(257)],
    ['spaces', 'token with spaces in it'],
    ['quotes', '"abcdefghijklmnopq"'],
    ['empty', ''],
  ])('refuses to sign %s', (_label, token) => {
    expect(crcTokenProblem(token)).not.toBeNull();
    expect(() => crcResponseToken(token, SECRET)).toThrow(/refusing to sign/);
  });

  it('never signs anything that parses as JSON (no signing oracle), whatever the token', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.json()), (token) => {
        let parses = true;
        try {
          JSON.parse(token);
        } catch {
          parses = false;
        }
        if (parses) expect(() => crcResponseToken(token, SECRET)).toThrow();
      }),
    );
  });

  it('answers every token of the shape X sends', () => {
    const base64Token = fc
      .uint8Array({ minLength: 12, maxLength: 180 })
      .map((b) => Buffer.from(b).toString('base64'));
    fc.assert(
      fc.property(base64Token, (token) => {
        expect(crcResponseToken(token, SECRET)).toBe(xSignature(token));
      }),
    );
  });
});

describe('verifySignature', () => {
  const body = Buffer.from('{"data":{"event_type":"post.mention.create","payload":{}}}');

  it('accepts X’s signature of the exact raw bytes', () => {
    expect(verifySignature(body, xSignature(body), SECRET)).toBe(true);
    expect(verifySignature(body.toString('utf8'), signBody(body, SECRET), SECRET)).toBe(true);
  });

  it.each([
    ['a missing header', undefined],
    ['an empty header', ''],
    ['no sha256= prefix', createHmac('sha256', SECRET).update(body).digest('base64')],
    ['another key', xSignature(body, 'the OAuth 2 client secret')],
    ['a hex digest', 'sha256=' + createHmac('sha256', SECRET).update(body).digest('hex')],
    ['a truncated signature', xSignature(body).slice(0, 20)],
  ])('refuses %s', (_label, header) => {
    expect(verifySignature(body, header, SECRET)).toBe(false);
  });

  it('refuses the signature of any other body (one byte changed, re-serialised JSON)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 512 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (bytes, at, delta) => {
          const original = Buffer.from(bytes);
          const tampered = Buffer.from(original);
          const i = at % tampered.length;
          tampered[i] = (tampered[i] + delta) % 256;
          const header = xSignature(original);
          expect(verifySignature(original, header, SECRET)).toBe(true);
          expect(verifySignature(tampered, header, SECRET)).toBe(false);
        },
      ),
    );
    const pretty = Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 2));
    expect(verifySignature(pretty, xSignature(body), SECRET)).toBe(false);
  });

  it('refuses arbitrary headers', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (header) => {
        expect(verifySignature(body, header, SECRET)).toBe(false);
      }),
    );
  });
});
