/**
 * No SSRF through the `https://` allow-list (issue 18, adapters/http/https-media-source.ts), against
 * real TLS servers on loopback (a self-signed certificate made by openssl for this run):
 * - a name on the allow-list that resolves to a private, loopback, link-local or mapped address is
 *   refused before any connection (the server sees none);
 * - a redirect is never followed, to another origin or anywhere (the target sees no request);
 * - a body larger than asked for (a server that ignores Range and streams on) is cut off.
 * Loopback is allowed only where a test says so (`testOnly.allowLoopback`, never set by the sender's
 * compose): the redirect and size tests need a server to talk to at all.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHttpsMediaReader, type Resolver } from '../../../adapters/http/https-media-source';
import { isChannelError } from '../../../core/errors';

const HOST = 'media.example.test';
const OTHER = 'other.example.test';
let cert: string;
let key: string;

beforeAll(() => {
  const dir = mkdtempSync(path.join(tmpdir(), 'xc-ssrf-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        `/CN=${HOST}`,
        '-addext',
        `subjectAltName=DNS:${HOST},DNS:${OTHER}`,
      ],
      { stdio: 'ignore' },
    );
    cert = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    key = readFileSync(path.join(dir, 'key.pem'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

interface TestServer {
  port: number;
  connections: number;
  requests: Array<{ method: string; url: string }>;
  bytesWritten: number;
  close(): Promise<void>;
}

async function startServer(
  handler: (
    req: import('node:http').IncomingMessage,
    res: import('node:http').ServerResponse,
    s: TestServer,
  ) => void,
): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const state: TestServer = {
    port: 0,
    connections: 0,
    requests: [],
    bytesWritten: 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = https.createServer({ cert, key }, (req, res) => {
    state.requests.push({ method: req.method ?? '', url: req.url ?? '' });
    handler(req, res, state);
  });
  server.on('connection', (s: Socket) => {
    state.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.port = (server.address() as AddressInfo).port;
  return state;
}

/** A resolver that answers `address` for every name (what a hostile or misconfigured DNS does). */
const resolvesTo =
  (address: string, family: 4 | 6 = 4): Resolver =>
  (_host, _options, callback) =>
    callback(null, [{ address, family }]);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isChannelError(e)) return e.code;
    throw e;
  }
  return 'no error';
}

describe('https media source: no SSRF', () => {
  it.each([
    ['127.0.0.1', 4],
    ['10.1.2.3', 4],
    ['172.20.0.5', 4],
    ['192.168.1.10', 4],
    ['169.254.169.254', 4], // the cloud metadata address
    ['100.64.0.1', 4],
    ['::1', 6],
    ['fe80::1', 6],
    ['fd00::5', 6],
    ['::ffff:127.0.0.1', 6],
  ] as const)(
    'an allow-listed name that resolves to %s is refused before any connection',
    async (address, family) => {
      const server = await startServer((_req, res) => res.end('image'));
      try {
        const reader = createHttpsMediaReader({
          timeoutMs: 2000,
          testOnly: { resolver: resolvesTo(address, family), ca: cert },
        });
        const ref = { source: 'https' as const, url: `https://${HOST}:${server.port}/a.png` };
        expect(await codeOf(reader.head(ref))).toBe('media_source_not_allowed');
        expect(await codeOf(reader.read(ref, 0, 10))).toBe('media_source_not_allowed');
        expect(server.connections).toBe(0);
      } finally {
        await server.close();
      }
    },
  );

  it('loopback stays refused unless a test allows it, and then the same server answers', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': '5' });
      res.end('image');
    });
    try {
      const ref = { source: 'https' as const, url: `https://${HOST}:${server.port}/a.png` };
      const guarded = createHttpsMediaReader({ testOnly: { resolver: resolvesTo('127.0.0.1'), ca: cert } });
      expect(await codeOf(guarded.head(ref))).toBe('media_source_not_allowed');
      expect(server.connections).toBe(0);
      const allowed = createHttpsMediaReader({
        testOnly: { resolver: resolvesTo('127.0.0.1'), ca: cert, allowLoopback: true },
      });
      expect(await allowed.head(ref)).toEqual({ contentType: 'image/png', bytes: 5 });
      expect(server.connections).toBe(1);
      // an IP literal is judged without DNS
      const literal = { source: 'https' as const, url: `https://127.0.0.1:${server.port}/a.png` };
      expect(await codeOf(guarded.head(literal))).toBe('media_source_not_allowed');
    } finally {
      await server.close();
    }
  });

  it('a redirect to another origin is not followed (HEAD and GET)', async () => {
    const target = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': '5' });
      res.end('image');
    });
    const redirecting = await startServer((_req, res) => {
      res.writeHead(302, { location: `https://${OTHER}:${target.port}/internal.png` });
      res.end();
    });
    try {
      const reader = createHttpsMediaReader({
        testOnly: { resolver: resolvesTo('127.0.0.1'), ca: cert, allowLoopback: true },
      });
      const ref = { source: 'https' as const, url: `https://${HOST}:${redirecting.port}/a.png` };
      expect(await codeOf(reader.head(ref))).toBe('media_source_not_allowed');
      expect(await codeOf(reader.read(ref, 0, 5))).toBe('media_source_not_allowed');
      expect(redirecting.requests.map((r) => r.method)).toEqual(['HEAD', 'GET']);
      expect(target.requests).toEqual([]);
    } finally {
      await redirecting.close();
      await target.close();
    }
  });

  it('a server that ignores Range and streams on is cut off at the bytes asked for', async () => {
    const total = 64 * 1024 * 1024;
    const server = await startServer((_req, res, s) => {
      // ignores Range: 200 with an endless-looking body, written as fast as the client takes it
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(total) });
      const chunk = Buffer.alloc(64 * 1024, 7);
      const pump = () => {
        while (s.bytesWritten < total) {
          s.bytesWritten += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => undefined);
      pump();
    });
    try {
      const reader = createHttpsMediaReader({
        testOnly: { resolver: resolvesTo('127.0.0.1'), ca: cert, allowLoopback: true },
      });
      const ref = { source: 'https' as const, url: `https://${HOST}:${server.port}/big.png` };
      const bytes = await reader.read(ref, 0, 1000);
      expect(bytes.length).toBe(1000);
      expect(bytes.every((b) => b === 7)).toBe(true);
      // the client hung up long before the 64 MB: the server could write at most its socket buffers more
      await new Promise((r) => setTimeout(r, 200));
      expect(server.bytesWritten).toBeLessThan(8 * 1024 * 1024);
    } finally {
      await server.close();
    }
  });
});
