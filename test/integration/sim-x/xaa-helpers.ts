/**
 * Shared steps for the XAA tests: a webhook receiver on loopback that answers X's CRC and checks
 * every delivery's `x-twitter-webhooks-signature` the way the docs say (HMAC-SHA256 of the raw body
 * keyed by the API key secret, compared in constant time), the app-only bearer token through
 * twitter-api-v2's `appLogin()`, and XDK clients pointed at the simulator.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@xdevplatform/xdk';
import { TwitterApi } from 'twitter-api-v2';
import type { SimX } from '../../../sim/x/server';
import { API_KEY, API_KEY_SECRET } from './helpers';

/** One POST the receiver got. */
export interface Received {
  raw: string;
  signature: string | undefined;
  /** The signature matched HMAC-SHA256(API key secret, raw body). */
  verified: boolean;
  body: {
    data?: {
      event_uuid: string;
      event_type: string;
      filter: { user_id?: string };
      tag?: string;
      payload: Record<string, unknown>;
      includes?: Record<string, unknown[]>;
    };
    replay_job_status?: { webhook_id: string; job_state: string; job_id: string };
  };
}

/** How the receiver answers CRCs and deliveries. */
export interface ReceiverBehaviour {
  /** `ok` signs the token; `wrong` answers a wrong token; `error` answers 503; `redirect` a 302. */
  crc: 'ok' | 'wrong' | 'error' | 'redirect';
  /** Status for deliveries. */
  deliveryStatus: number;
}

/** A webhook receiver on loopback. */
export interface Receiver {
  url: string;
  received: Received[];
  crcTokens: string[];
  behaviour: ReceiverBehaviour;
  /** Deliveries carrying an XAA event (not replay status), in arrival order. */
  events(): NonNullable<Received['body']['data']>[];
  waitFor(predicate: (r: Receiver) => boolean, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const sign = (secret: string, message: string) =>
  `sha256=${createHmac('sha256', secret).update(message).digest('base64')}`;

/** Starts a receiver that knows the app's API key secret. */
export async function startReceiver(secret = API_KEY_SECRET, path = '/x/webhook'): Promise<Receiver> {
  const received: Received[] = [];
  const crcTokens: string[] = [];
  const behaviour: ReceiverBehaviour = { crc: 'ok', deliveryStatus: 200 };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://receiver');
    if (req.method === 'GET') {
      const token = url.searchParams.get('crc_token') ?? '';
      crcTokens.push(token);
      if (behaviour.crc === 'error') return res.writeHead(503).end();
      if (behaviour.crc === 'redirect') return res.writeHead(302, { location: 'http://127.0.0.1:9/' }).end();
      const answer = behaviour.crc === 'ok' ? sign(secret, token) : sign('not-the-secret', token);
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ response_token: answer }));
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const signature = req.headers['x-twitter-webhooks-signature'] as string | undefined;
      const expected = Buffer.from(sign(secret, raw));
      const given = Buffer.from(signature ?? '');
      const verified = given.length === expected.length && timingSafeEqual(given, expected);
      received.push({ raw, signature, verified, body: JSON.parse(raw) as Received['body'] });
      res.writeHead(behaviour.deliveryStatus).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}${path}`,
    received,
    crcTokens,
    behaviour,
    events: () => received.filter((r) => r.body.data).map((r) => r.body.data!),
    async waitFor(predicate, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      while (!predicate(receiver)) {
        if (Date.now() > until) throw new Error(`receiver: condition not met in ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return receiver;
}

/** The app-only bearer token, exactly as twitter-api-v2 gets it (`appLogin`, X-API.md §8 rewrite). */
export async function appBearerToken(sim: SimX, apiKey = API_KEY, apiKeySecret = API_KEY_SECRET) {
  const base = new URL(sim.url);
  const client = new TwitterApi(
    { appKey: apiKey, appSecret: apiKeySecret },
    {
      httpAgent: new http.Agent(),
      plugins: [
        {
          onBeforeRequest({ computedParams }) {
            computedParams.url.protocol = base.protocol;
            computedParams.url.host = base.host;
          },
        },
      ],
    },
  );
  const tokens = (await client.appLogin()).getActiveTokens();
  if (tokens.type !== 'oauth2') throw new Error('appLogin gave no bearer token');
  return tokens.bearerToken;
}

/** X's official SDK on the app-only bearer token, pointed at the simulator. */
export const xdkApp = (sim: SimX, bearerToken: string) => new Client({ baseUrl: sim.url, bearerToken });

/** X's official SDK on a user's OAuth 2.0 token. */
export const xdkUser = (sim: SimX, accessToken: string) => new Client({ baseUrl: sim.url, accessToken });

/** A raw JSON call (for shapes the SDKs hide). */
export async function call(sim: SimX, method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${sim.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
}
