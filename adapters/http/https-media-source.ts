/**
 * Outbound media from an operator-allow-listed `https://` origin (core/outbound/media.ts checked the
 * origin). No SSRF: the host's addresses are resolved by our own `lookup` and a private, loopback,
 * link-local, CGNAT, multicast or reserved address refuses the request before it connects (the socket
 * connects to the very address that was checked, so DNS cannot change in between); IP literals are
 * checked the same way; redirects are never followed (a 3xx is `media_source_not_allowed`); every request
 * is bounded in time, and reads in size.
 */
import dns from 'node:dns';
import https from 'node:https';
import net, { type LookupFunction } from 'node:net';
import { permanent, retryable } from '../../core/errors';
import type { MediaHead, MediaRef } from '../../core/outbound/media';

const BLOCKED = new net.BlockList();
for (const [net4, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  BLOCKED.addSubnet(net4, prefix, 'ipv4');
for (const [net6, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  BLOCKED.addSubnet(net6, prefix, 'ipv6');

/** Whether an address must never be fetched from (IPv4-mapped IPv6 is judged by its IPv4 address). */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return BLOCKED.check(mapped[1], 'ipv4');
  const family = net.isIP(address);
  if (family === 0) return true;
  return BLOCKED.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

const PRIVATE = 'XC_PRIVATE_ADDRESS';

/** Resolves a host name to all its addresses (`dns.lookup` with `all: true`). */
export type Resolver = (
  hostname: string,
  options: dns.LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

const isLoopback = (address: string) => address === '::1' || /^(::ffff:)?127\./i.test(address);

/**
 * A `lookup` that refuses private addresses (so the connection goes only to a checked public one).
 * `allowLoopback` is for tests only (their servers listen on 127.0.0.1); every other non-public
 * address stays refused.
 */
export function createGuardedLookup(resolver: Resolver = dns.lookup, allowLoopback = false): LookupFunction {
  return (hostname, options, callback) => {
    resolver(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const list = addresses as dns.LookupAddress[];
      const refused = (address: string) =>
        isPrivateAddress(address) && !(allowLoopback && isLoopback(address));
      if (!list.length || list.some((a) => refused(a.address))) {
        const refused = Object.assign(new Error(`${hostname} resolves to a non-public address`), {
          code: PRIVATE,
        });
        return callback(refused, '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
}

/** The production lookup: the system resolver, every non-public address refused. */
export const guardedLookup: LookupFunction = createGuardedLookup();

export interface HttpsMediaOptions {
  /** Per request. @default 10 s */
  timeoutMs?: number;
  /**
   * Test only (lambdas/sender/compose.ts never sets these): the resolver behind the guard, so a
   * test can make a name resolve to any address; trust for a test server's self-signed certificate;
   * and loopback allowed, because test servers listen on 127.0.0.1 (every other non-public address
   * stays refused).
   */
  testOnly?: { resolver?: Resolver; ca?: string; allowLoopback?: boolean };
}

type HttpsRef = Extract<MediaRef, { source: 'https' }>;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export function createHttpsMediaReader(options: HttpsMediaOptions = {}) {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const test = options.testOnly;
  const lookup = test ? createGuardedLookup(test.resolver, test.allowLoopback) : guardedLookup;

  function request(ref: HttpsRef, method: 'HEAD' | 'GET', headers: Record<string, string>, maxBytes: number) {
    const url = new URL(ref.url);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (net.isIP(host) && isPrivateAddress(host) && !(test?.allowLoopback && isLoopback(host))) {
      throw permanent(
        'media_source_not_allowed',
        `${url.origin}: a non-public address is never fetched from`,
      );
    }
    return new Promise<Answer>((resolve, reject) => {
      const req = https.request(
        url,
        {
          method,
          headers,
          lookup,
          timeout: timeoutMs,
          agent: false,
          ...(test?.ca ? { ca: test.ca } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > maxBytes) {
              // enough (a server that ignored Range sends the whole object: keep what is needed)
              chunks.push(c);
              res.destroy();
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
              return;
            }
            chunks.push(c);
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    }).catch((error: unknown) => {
      if ((error as { code?: string })?.code === PRIVATE) {
        throw permanent(
          'media_source_not_allowed',
          `${url.origin}: ${(error as Error).message}; not fetched`,
        );
      }
      throw retryable('internal', `${url.origin} could not be reached for the media`, undefined, error);
    });
  }

  function refuseRedirect(ref: HttpsRef, answer: Answer) {
    if (answer.status >= 300 && answer.status < 400) {
      throw permanent(
        'media_source_not_allowed',
        `${new URL(ref.url).origin} answered a redirect (${answer.status}); redirects are not followed`,
      );
    }
  }

  return {
    async head(ref: HttpsRef): Promise<MediaHead | null> {
      const answer = await request(ref, 'HEAD', {}, 0);
      refuseRedirect(ref, answer);
      if (answer.status === 404 || answer.status === 410) return null;
      if (answer.status < 200 || answer.status >= 300)
        throw retryable('internal', `the media URL answered ${answer.status}`);
      const length = Number(answer.headers['content-length']);
      if (!Number.isSafeInteger(length) || length < 0)
        throw permanent('media_not_found', 'the media URL did not tell its size (Content-Length)');
      const type = answer.headers['content-type'];
      return { contentType: typeof type === 'string' ? type : null, bytes: length };
    },

    async read(ref: HttpsRef, start: number, end: number): Promise<Buffer> {
      const answer = await request(ref, 'GET', { range: `bytes=${start}-${end - 1}` }, end);
      refuseRedirect(ref, answer);
      // 206: the range; 200: the server ignored Range and sent the object from its start
      const bytes =
        answer.status === 206 ? answer.body : answer.status === 200 ? answer.body.subarray(start, end) : null;
      if (!bytes || bytes.length !== end - start)
        throw retryable('internal', `the media URL answered ${answer.status} with an unexpected length`);
      return bytes;
    },
  };
}
