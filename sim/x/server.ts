/**
 * The simulated X: one HTTP origin serving the X API v2 subset the connector uses, X's OAuth 2.0
 * authorize page and token endpoints, and the `/_sim` control API (DESIGN.md "Local surfaces").
 *
 * Per API call, in order: route → identify the token → faults → 401 → suspended → plan access (403
 * client-forbidden) → scopes → credits (402) / monthly cap (429 usage-capped) → rate windows (429)
 * → handler → billing. Every answer carries `x-rate-limit-*` except 401s (X-API.md §1).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { rename, writeFile, readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { handleApi, READS_POSTS } from './api';
import { appendInput, MediaApi } from './media';
import { TON_UNAUTHORIZED } from './dm-media';
import { refuseForeignHost, refuseJsonApiRequest } from '../../local/loopback';
import { handleControl, type ControlHost } from './control';
import { FaultTable, faultSchema, type FaultSpec } from './faults';
import { LatencySampler, latencySchema, parseLatency, type LatencyProfile } from './latency';
import {
  clientForbidden,
  forbidden,
  json,
  parseFlatBody,
  readBody,
  readBodyBytes,
  TOO_MANY_REQUESTS,
  UNAUTHORIZED,
  type SimResponse,
} from './http-util';
import {
  DM_MEDIA_ENDPOINT,
  MONTHLY_POST_READ_CAP,
  RATE_LIMITS,
  REQUIRED_SCOPES,
  TIERS,
  XAA_ENDPOINTS,
  type EndpointKey,
  type MediaEndpointKey,
  type Tier,
  type XaaEndpointKey,
} from './limits';
import {
  applyOwnedReads,
  BillingMeter,
  RateLimiter,
  type BillingReport,
  type RateLimitLogEntry,
} from './meters';
import { SimOAuth, type TokenLogEntry } from './oauth';
import { XaaApi, type XaaSettings } from './xaa';
import { XaaDelivery, type CrcOutcome, type DeliveryRecord } from './xaa-delivery';
import { chatConversationId, chatCrypto } from './xaa-payloads';
import {
  SimInputError,
  SimStore,
  type DmAcceptance,
  type DeliverySettings,
  type SimApp,
  type SimChat,
  type SimData,
  type SimDm,
  type SimTweet,
  type SimUser,
} from './store';
import { randomUUID } from 'node:crypto';

export type { Tier } from './limits';
export type { FaultSpec } from './faults';
export type { LatencyProfile } from './latency';
export type { TokenLogEntry } from './oauth';
export type { RateLimitLogEntry, BillingReport } from './meters';
export { fingerprintToken } from './oauth';
export type { DeliveryRecord, CrcOutcome } from './xaa-delivery';
export { webhookSignature } from './xaa-delivery';

/** Options of {@link startSimX}. */
export interface SimXOptions {
  /** 0 (default) = a random free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Persist state as JSON here, atomically, on change (debounced) and on stop; loaded at start. */
  dataFile?: string;
  /** Injectable clock (ms); token/code expiry, rate windows and created_at all read it. */
  clock?: { now(): number };
  /** Default `pay-per-use` (X's default plan since 2026-02). Overrides a persisted tier. */
  tier?: Tier;
  /** Access-token lifetime; X's is 7200 s. */
  accessTokenTtlSeconds?: number;
  /** Reusing a spent refresh token revokes the whole grant (X may do this; X-API.md §1). */
  invalidateGrantOnRefreshReuse?: boolean;
  /**
   * Observes every X API answer (tests validate them against X's OpenAPI). Kept out of the hot
   * path when unset; never validate inside the server itself.
   */
  onApiResponse?: (info: { endpoint: EndpointKey; status: number; body: string }) => void;
  /** Webhook URL rules: `local` (default) takes any http(s) URL; `x` enforces X's (https, no port). */
  webhookUrlRule?: 'x' | 'local';
  /** Periodic CRC of valid webhooks; X: hourly (default). 0 = only on demand. */
  crcIntervalMs?: number;
  /** How long a webhook gets to answer a CRC or a delivery; X: 10 s. */
  webhookTimeoutMs?: number;
  /** App-wide XAA subscription cap instead of the tier's (1,500 on pay-per-use); null = none. */
  subscriptionLimit?: number | null;
  /** Accept `oauth.revoke` subscriptions (default true; X's enum lacks it, X-API.md §9). */
  oauthRevokeSubscribable?: boolean;
  /** Random source for delivery drops and duplicates (default Math.random). */
  random?: () => number;
  /**
   * Added latency of every X API call, log-normal with this median and 99th percentile (sim/x/latency.ts);
   * default none. `PUT /_sim/latency` changes it at run time.
   */
  latency?: { p50Ms: number; p99Ms: number; maxMs?: number };
  /** How long video and animated-GIF processing takes after finalize, on the simulator's clock (default 1000 ms). */
  mediaProcessingMs?: number;
}

/** A running simulated X. */
export interface SimX {
  /** Origin serving the X API, `/_sim` and `/i/oauth2/authorize`, e.g. `http://127.0.0.1:4010`. */
  readonly url: string;
  /** The live state (read it; change it through the methods). */
  readonly state: SimData;
  registerApp(app: {
    clientId: string;
    clientSecret: string | null;
    name: string;
    redirectUris: string[];
    /** OAuth 1.0a consumer key ("API Key"): with the secret, buys the app-only bearer token. */
    apiKey?: string | null;
    /** OAuth 1.0a consumer secret ("API Key Secret"): keys webhook CRC answers and signatures. */
    apiKeySecret?: string | null;
    /** The X user who owns the app: its own timeline reads are billed as Owned Reads. */
    ownerUserId?: string | null;
  }): void;
  createUser(input: { username: string; name: string }): { id: string };
  createTweet(input: {
    authorId: string;
    text: string;
    inReplyToId?: string;
    quoteOfId?: string;
    mediaCount?: number;
    /** What `mediaCount` makes (default photos): videos and GIFs carry mp4 variants and a preview. */
    mediaType?: 'photo' | 'video' | 'animated_gif';
    /** Make the text a long post: padded beyond 280 chars so `note_tweet` carries the whole of it. */
    longText?: boolean;
  }): SimTweet;
  sendDm(input: { senderId: string; recipientId: string; text: string; mediaCount?: number }): SimDm;
  /** An encrypted XChat message (`POST /_sim/chats`): XAA `chat.received`, never in `/2/dm_events`. */
  sendChat(input: { senderId: string; recipientId: string; text: string }): SimChat;
  /** `PUT /_sim/delivery`: webhook delivery drops, duplicates and delay (merged into the current). */
  setDelivery(settings: Partial<DeliverySettings>): DeliverySettings;
  /** Overrides the app-wide XAA subscription cap (null = none, undefined = the tier's). */
  setSubscriptionLimit(limit: number | null | undefined): void;
  /** Runs the periodic CRC now (every valid webhook). */
  runCrc(): Promise<{ id: string; outcome: CrcOutcome; valid: boolean }[]>;
  /** What happened to recent XAA events (generated, dropped, each send and its status). */
  deliveries(webhookId?: string): DeliveryRecord[];
  /** Resolves once no webhook delivery, CRC or replay is pending. */
  deliveriesIdle(): Promise<void>;
  setTier(tier: Tier): void;
  tier(): Tier;
  setFault(fault: FaultSpec): void;
  clearFaults(): void;
  /** `PUT /_sim/latency`: the added latency profile of X API calls (p50 0 = off); returns what applies. */
  setLatency(profile: { p50Ms: number; p99Ms: number; maxMs?: number }): LatencyProfile;
  latency(): LatencyProfile;
  /** The faults that fired (a call took them), oldest first; armed faults no call met are not here. */
  firedFaults(): readonly FaultSpec[];
  revokeUserTokens(userId: string): void;
  suspendUser(userId: string): void;
  setDmAcceptance(userId: string, acceptance: DmAcceptance): void;
  /** Pay-per-use credits in USD; null = not metered against a balance. */
  setCredits(usd: number | null): void;
  /** Overrides the tier's monthly Post-read cap (null = the tier's own). */
  setMonthlyReadCap(cap: number | null): void;
  /** Moves the simulator's own clock forward (on top of the injected clock). */
  advanceClock(ms: number): void;
  now(): number;
  /** Per-endpoint request counts, keyed `METHOD /path/template`. */
  requests(): Record<string, number>;
  billing(): BillingReport;
  tokenLog(): readonly TokenLogEntry[];
  rateLimitLog(): readonly RateLimitLogEntry[];
  /** Users with a live OAuth grant. */
  signedInUsers(): SimUser[];
  /** Drops users, posts, DMs, follows, tokens, counters and faults; keeps registered apps and the tier. */
  reset(): void;
  /** Writes the data file now (if any). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** Which tokens an endpoint takes: a user's OAuth 2.0 token, the app-only bearer token, or either. */
type RouteAuth = 'user' | 'app' | 'any';

interface Route {
  method: string;
  endpoint: EndpointKey;
  pattern: RegExp;
  names: string[];
  auth: RouteAuth;
}

const ID = '([0-9]{1,19})';
const ROUTES: Route[] = [
  ['GET', 'GET /2/users/me', /^\/2\/users\/me$/, []],
  [
    'GET',
    'GET /2/users/by/username/:username',
    /^\/2\/users\/by\/username\/([A-Za-z0-9_]{1,15})$/,
    ['username'],
  ],
  ['GET', 'GET /2/users/:id/mentions', new RegExp(`^/2/users/${ID}/mentions$`), ['id']],
  ['GET', 'GET /2/users/:id/tweets', new RegExp(`^/2/users/${ID}/tweets$`), ['id']],
  ['GET', 'GET /2/users/:id', new RegExp(`^/2/users/${ID}$`), ['id']],
  ['GET', 'GET /2/dm_events', /^\/2\/dm_events$/, []],
  [
    'GET',
    'GET /2/dm_conversations/with/:participant_id/dm_events',
    new RegExp(`^/2/dm_conversations/with/${ID}/dm_events$`),
    ['participant_id'],
  ],
  [
    'GET',
    'GET /2/dm_conversations/:dm_conversation_id/dm_events',
    /^\/2\/dm_conversations\/([0-9-]{1,40})\/dm_events$/,
    ['dm_conversation_id'],
  ],
  [
    'GET',
    DM_MEDIA_ENDPOINT,
    new RegExp(`^/2/dm_conversations/media/${ID}/${ID}/([a-zA-Z0-9_.-]{1,50})$`),
    ['dm_id', 'media_id', 'resource_id'],
  ],
  ['POST', 'POST /2/tweets', /^\/2\/tweets$/, []],
  [
    'POST',
    'POST /2/dm_conversations/with/:participant_id/messages',
    new RegExp(`^/2/dm_conversations/with/${ID}/messages$`),
    ['participant_id'],
  ],
  [
    'POST',
    'POST /2/dm_conversations/:dm_conversation_id/messages',
    /^\/2\/dm_conversations\/([0-9-]{1,40})\/messages$/,
    ['dm_conversation_id'],
  ],
  ['POST', 'POST /2/users/:id/following', new RegExp(`^/2/users/${ID}/following$`), ['id']],
  // media upload v2 (./media.ts)
  ['POST', 'POST /2/media/upload/initialize', /^\/2\/media\/upload\/initialize$/, []],
  ['POST', 'POST /2/media/upload/:id/append', new RegExp(`^/2/media/upload/${ID}/append$`), ['id']],
  ['POST', 'POST /2/media/upload/:id/finalize', new RegExp(`^/2/media/upload/${ID}/finalize$`), ['id']],
  ['GET', 'GET /2/media/upload', /^\/2\/media\/upload$/, []],
  // XAA (X-API.md §7, §9). Auth per OpenAPI 2.167: webhooks take the app-only bearer token (OAuth
  // 1.0a user context too, not simulated); subscriptions are created or listed with a user's
  // OAuth 2.0 token or the bearer, but updated and deleted with the bearer only.
  ['POST', 'POST /2/webhooks/replay', /^\/2\/webhooks\/replay$/, [], 'app'],
  ['POST', 'POST /2/webhooks', /^\/2\/webhooks$/, [], 'app'],
  ['GET', 'GET /2/webhooks', /^\/2\/webhooks$/, [], 'app'],
  ['PUT', 'PUT /2/webhooks/:webhook_id', new RegExp(`^/2/webhooks/${ID}$`), ['webhook_id'], 'app'],
  ['DELETE', 'DELETE /2/webhooks/:webhook_id', new RegExp(`^/2/webhooks/${ID}$`), ['webhook_id'], 'app'],
  ['POST', 'POST /2/activity/subscriptions', /^\/2\/activity\/subscriptions$/, [], 'any'],
  ['GET', 'GET /2/activity/subscriptions', /^\/2\/activity\/subscriptions$/, [], 'any'],
  ['DELETE', 'DELETE /2/activity/subscriptions', /^\/2\/activity\/subscriptions$/, [], 'app'],
  [
    'PUT',
    'PUT /2/activity/subscriptions/:subscription_id',
    new RegExp(`^/2/activity/subscriptions/${ID}$`),
    ['subscription_id'],
    'app',
  ],
  [
    'DELETE',
    'DELETE /2/activity/subscriptions/:subscription_id',
    new RegExp(`^/2/activity/subscriptions/${ID}$`),
    ['subscription_id'],
    'app',
  ],
].map(
  ([method, endpoint, pattern, names, auth]) =>
    ({ method, endpoint, pattern, names, auth: auth ?? 'user' }) as Route,
);

/** X's 403 for a token of the wrong kind (live v2 wording). */
function unsupportedAuthentication(given: 'user' | 'app') {
  const detail =
    given === 'user'
      ? 'Authenticating with OAuth 2.0 User Context is forbidden for this endpoint.  Supported authentication types are [OAuth 2.0 Application-Only].'
      : 'Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].';
  return json(403, {
    title: 'Unsupported Authentication',
    detail,
    type: 'https://api.x.com/2/problems/unsupported-authentication',
    status: 403,
  });
}

function matchRoute(method: string, path: string): { route: Route; params: Record<string, string> } | null {
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const m = route.pattern.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    route.names.forEach((n, i) => (params[n] = m[i + 1]));
    return { route, params };
  }
  return null;
}

const isMedia = (endpoint: EndpointKey): endpoint is MediaEndpointKey => endpoint.includes('/2/media/');

const isXaa = (endpoint: EndpointKey): endpoint is XaaEndpointKey =>
  (XAA_ENDPOINTS as readonly string[]).includes(endpoint);

const LONG_PADDING =
  ' Más detalles: el pedido llegó incompleto, faltan dos piezas y la caja estaba dañada. Adjunto fotos y el número de seguimiento. Llevo una semana esperando respuesta por correo y nadie contesta. Necesito una solución antes del viernes porque es un regalo. Gracias de antemano por la ayuda.';

/** Starts a simulated X. */
export async function startSimX(options: SimXOptions = {}): Promise<SimX> {
  const baseClock = options.clock ?? { now: () => Date.now() };
  let offsetMs = 0;
  const now = () => baseClock.now() + offsetMs;

  let loaded: SimData | undefined;
  if (options.dataFile) {
    try {
      loaded = JSON.parse(await readFile(options.dataFile, 'utf8')) as SimData;
      if (loaded.version !== 1) throw new Error(`unsupported state version ${String(loaded.version)}`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  const store = new SimStore(now, loaded);
  if (options.tier) store.data.tier = options.tier;
  const oauth = new SimOAuth(store, now, {
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 7200,
    invalidateGrantOnRefreshReuse: options.invalidateGrantOnRefreshReuse ?? false,
  });
  const limiter = new RateLimiter(now);
  const meter = new BillingMeter(() => store.data, now);
  const faults = new FaultTable();
  const latency = new LatencySampler(
    options.latency ? parseLatency(options.latency) : undefined,
    options.random ?? Math.random,
  );
  /** The profile's wait before an X API answer (none when off). */
  const lag = async () => {
    const ms = latency.draw();
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  };
  const xaaHost = { store, oauth, meter, now, origin: () => origin };
  const xaaEngine = new XaaDelivery(xaaHost, {
    webhookTimeoutMs: options.webhookTimeoutMs ?? 10_000,
    crcIntervalMs: options.crcIntervalMs ?? 3_600_000,
    random: options.random ?? Math.random,
  });
  const xaaSettings: XaaSettings = {
    webhookUrlRule: options.webhookUrlRule ?? 'local',
    oauthRevokeSubscribable: options.oauthRevokeSubscribable ?? true,
    ...(options.subscriptionLimit !== undefined ? { subscriptionLimit: options.subscriptionLimit } : {}),
  };
  const xaaApi = new XaaApi(xaaHost, xaaEngine, xaaSettings);
  const mediaApi = new MediaApi(store, { processingMs: options.mediaProcessingMs ?? 1000 });
  store.onCreated = (item) => xaaEngine.onCreated(item);
  oauth.onUserRevoke = (userId, clientIds) => xaaEngine.onRevoke(userId, clientIds);
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  /** Windows of 429 faults with `hold`, per `<endpoint>|<userId>`: epoch seconds of the reset. */
  const heldWindows = new Map<string, number>();
  let origin = '';

  // Persistence: debounced atomic writes (tmp file + rename, so a crash never leaves half a file).
  let saveTimer: NodeJS.Timeout | undefined;
  let saving: Promise<void> = Promise.resolve();
  const save = async () => {
    if (!options.dataFile) return;
    const file = options.dataFile;
    const text = JSON.stringify(store.data);
    saving = saving.then(async () => {
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, text, { mode: 0o600 }); // it holds tokens: owner-only
      await rename(tmp, file);
    });
    await saving;
  };
  // Set by stop(): a delivery still in flight must not write the data file after the final save.
  let stopping = false;
  store.onChange = () => {
    if (!options.dataFile || saveTimer || stopping) return;
    saveTimer = setTimeout(() => {
      saveTimer = undefined;
      void save();
    }, 200);
    saveTimer.unref();
  };

  const countRequest = (key: string) => {
    store.data.requests[key] = (store.data.requests[key] ?? 0) + 1;
  };

  const monthlyCap = () => store.data.monthlyReadCapOverride ?? MONTHLY_POST_READ_CAP[store.data.tier];

  async function api(req: IncomingMessage, path: string, query: URLSearchParams, res: ServerResponse) {
    const matched = matchRoute(req.method ?? 'GET', path);
    if (!matched) {
      return send(
        res,
        json(404, {
          title: 'Not Found Error',
          detail: `no route ${req.method} ${path}`,
          type: 'https://api.x.com/2/problems/resource-not-found',
        }),
      );
    }
    const { route, params } = matched;
    const endpoint = route.endpoint;
    countRequest(endpoint);
    await lag();
    // An append carries a binary chunk (multipart) or its base64 (JSON): up to 8 MB; everything else is JSON text.
    const isAppend = endpoint === 'POST /2/media/upload/:id/append';
    const rawBody =
      req.method === 'POST' || req.method === 'PUT'
        ? await readBodyBytes(req, isAppend ? 8 * 1024 * 1024 : 1_000_000)
        : Buffer.alloc(0);
    const body = isAppend ? '' : rawBody.toString('utf8');
    const auth = oauth.authenticate(req.headers.authorization);
    const userId = auth?.grant.userId ?? null;
    const appAuth = auth ? null : oauth.authenticateApp(req.headers.authorization);
    const clientId = auth?.grant.clientId ?? appAuth?.clientId ?? '';

    // a 429 fault that holds its window answers every call inside it (X's spent window)
    const held = heldWindows.get(`${endpoint}|${userId ?? ''}`);
    if (held !== undefined && now() < held * 1000) {
      limiter.record({ at: now(), endpoint, userId: userId ?? '', clientId, status: 429, reset: held });
      return send(res, TOO_MANY_REQUESTS(), {
        'x-rate-limit-limit': '1',
        'x-rate-limit-remaining': '0',
        'x-rate-limit-reset': String(held),
      });
    }
    const fault = faults.take(endpoint, userId);
    if (fault) {
      const handled = await applyFault(fault, res, userId, endpoint, clientId);
      if (handled) return;
    }
    // Re-check: a revoke/suspend fault may just have changed things.
    const current = oauth.authenticate(req.headers.authorization);
    const app = current ? null : oauth.authenticateApp(req.headers.authorization);
    if (!current && !app) return send(res, UNAUTHORIZED());
    if (current && route.auth === 'app') return send(res, unsupportedAuthentication('user'));
    if (app && route.auth === 'user') return send(res, unsupportedAuthentication('app'));
    const user = current ? (store.user(current.grant.userId) as SimUser) : null;
    const log = (status: number, reset?: number) =>
      limiter.record({ at: now(), endpoint, userId: user?.id ?? '', clientId, status, reset });
    if (user?.suspended) {
      log(403);
      return send(res, forbidden('Your account is suspended and is not permitted to access this feature.'));
    }
    const tier = store.data.tier;
    const access = RATE_LIMITS[tier][endpoint];
    if ('forbidden' in access) {
      log(403);
      return send(
        res,
        clientForbidden(
          `When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project. This endpoint (${endpoint}) is not included in the ${tier} plan.`,
          access.forbidden === 'Enterprise' ? 'Enterprise' : 'Appropriate Level of API Access',
        ),
      );
    }
    const missing = REQUIRED_SCOPES[endpoint].filter((s) => !current?.grant.scopes.includes(s));
    if (current && missing.length) {
      log(403);
      return send(res, forbidden('Forbidden', { missing_scopes: missing }));
    }
    if (tier === 'pay-per-use' && store.data.creditsUsd !== null && store.data.creditsUsd <= 0) {
      log(402);
      return send(
        res,
        json(402, {
          title: 'CreditsDepleted',
          detail: 'credits depleted',
          type: 'https://api.x.com/2/problems/credits-depleted',
          status: 402,
        }),
      );
    }
    const cap = monthlyCap();
    if (READS_POSTS.has(endpoint) && cap !== null && meter.monthPostReads() >= cap) {
      log(429);
      return send(
        res,
        json(429, {
          title: 'UsageCapExceeded',
          detail: 'Usage cap exceeded: Monthly product cap',
          type: 'https://api.x.com/2/problems/usage-capped',
          period: 'Monthly',
          scope: 'Product',
        }),
      );
    }
    const decision = limiter.take(tier, endpoint, user?.id ?? '', clientId);
    if (!decision.allowed) {
      log(429, decision.reset);
      return send(res, TOO_MANY_REQUESTS(), decision.headers);
    }
    const result = !user
      ? await xaaApi.handle({
          endpoint: endpoint as XaaEndpointKey,
          params,
          query,
          body,
          app: app as SimApp,
          userId: null,
          scopes: [],
          tier,
        })
      : isMedia(endpoint)
        ? await handleMedia(endpoint, user.id, params, query, req.headers['content-type'], rawBody, body)
        : isXaa(endpoint)
          ? await xaaApi.handle({
              endpoint,
              params,
              query,
              body,
              app: oauth.app(clientId) as SimApp,
              userId: user.id,
              scopes: current?.grant.scopes ?? [],
              tier,
            })
          : handleApi({
              endpoint,
              params,
              query,
              body,
              userId: user.id,
              tier,
              now: now(),
              store,
              origin,
              media: mediaApi,
            });
    if (result.status < 400 && result.billing)
      meter.charge(
        applyOwnedReads(result.billing, {
          endpoint,
          pathUserId: params.id,
          userId: user?.id ?? null,
          appOwnerUserId: oauth.app(clientId)?.ownerUserId,
        }),
      );
    if (result.status < 400 && result.billing?.length) store.onChange();
    log(result.status);
    if (options.onApiResponse) {
      const text = typeof result.body === 'string' ? result.body : result.body.toString('utf8');
      options.onApiResponse({ endpoint, status: result.status, body: text });
    }
    send(res, result, decision.headers);
  }

  async function handleMedia(
    endpoint: MediaEndpointKey,
    userId: string,
    params: Record<string, string>,
    query: URLSearchParams,
    contentType: string | undefined,
    rawBody: Buffer,
    body: string,
  ): Promise<SimResponse> {
    switch (endpoint) {
      case 'POST /2/media/upload/initialize': {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body || 'null');
        } catch {
          parsed = null;
        }
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
          return json(400, {
            title: 'Invalid Request',
            detail: 'One or more parameters to your request was invalid.',
            type: 'https://api.x.com/2/problems/invalid-request',
            errors: [{ message: 'Request body must be a JSON object' }],
          });
        return mediaApi.initialize(userId, parsed as Record<string, unknown>, now());
      }
      case 'POST /2/media/upload/:id/append':
        return mediaApi.append(userId, params.id, appendInput(contentType, rawBody), now());
      case 'POST /2/media/upload/:id/finalize':
        return mediaApi.finalize(userId, params.id, now());
      case 'GET /2/media/upload':
        return mediaApi.status(userId, query, now());
    }
  }

  /** Applies a fault; true when the answer is already decided. */
  async function applyFault(
    fault: FaultSpec,
    res: ServerResponse,
    userId: string | null,
    endpoint: EndpointKey,
    clientId: string,
  ): Promise<boolean> {
    switch (fault.kind) {
      case 'latency':
        await new Promise((r) => setTimeout(r, fault.latencyMs));
        return false;
      case 'timeout':
        // Accept and never answer; stop() ends these.
        hanging.add(res);
        return true;
      case 'reset':
        res.socket?.destroy();
        return true;
      case 'revoke':
        if (userId) oauth.revokeUserTokens(userId);
        return false;
      case 'suspend':
        if (userId) setSuspended(userId, true);
        return false;
      case 'malformed': {
        // Announce a full body, send half of it, then cut the connection: a body truncated in flight.
        const full = JSON.stringify({
          data: [{ id: '1', text: 'truncated in flight' }],
          meta: { result_count: 1 },
        });
        res.writeHead(200, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': String(Buffer.byteLength(full)),
        });
        res.write(full.slice(0, Math.floor(full.length / 2)));
        setImmediate(() => res.socket?.destroy());
        return true;
      }
      case 'status': {
        const status = fault.status as number;
        if (status === 429) {
          const reset = Math.ceil(now() / 1000) + (fault.resetSeconds ?? 900);
          limiter.record({ at: now(), endpoint, userId: userId ?? '', clientId, status: 429, reset });
          if (fault.hold) heldWindows.set(`${endpoint}|${userId ?? ''}`, reset);
          send(res, TOO_MANY_REQUESTS(), {
            'x-rate-limit-limit': '1',
            'x-rate-limit-remaining': '0',
            'x-rate-limit-reset': String(reset),
          });
          return true;
        }
        if (status === 401) {
          send(res, UNAUTHORIZED());
          return true;
        }
        const titles: Record<number, string> = {
          500: 'Internal Server Error',
          502: 'Bad Gateway',
          503: 'Service Unavailable',
          504: 'Gateway Timeout',
          403: 'Forbidden',
          400: 'Bad Request',
        };
        const title = titles[status] ?? 'Error';
        send(res, json(status, { title, detail: title, type: 'about:blank', status }));
        return true;
      }
    }
  }

  function send(res: ServerResponse, result: SimResponse, extraHeaders?: Record<string, string>) {
    if (res.headersSent || res.destroyed) return;
    const headers = { ...(result.headers ?? {}), ...(extraHeaders ?? {}) };
    headers['content-length'] = String(Buffer.byteLength(result.body));
    res.writeHead(result.status, headers);
    res.end(result.body);
  }

  function setSuspended(userId: string, suspended: boolean) {
    const user = store.user(userId);
    if (!user) throw new SimInputError('userId', `no user with id ${userId}`, 404);
    user.suspended = suspended;
    store.onChange();
  }

  async function oauthEndpoints(
    req: IncomingMessage,
    path: string,
    query: URLSearchParams,
    res: ServerResponse,
  ) {
    const method = req.method ?? 'GET';
    if (path === '/i/oauth2/authorize') {
      if (method === 'GET') return send(res, oauth.authorizePage(query));
      if (method === 'POST') {
        const form = parseFlatBody(req.headers['content-type'], await readBody(req)) ?? new Map();
        return send(res, oauth.authorizeDecision(query, form));
      }
    }
    if (method === 'POST' && path === '/oauth2/token') {
      // The app-only bearer token (client_credentials with the API key and secret).
      countRequest('POST /oauth2/token');
      await lag();
      const body = parseFlatBody(req.headers['content-type'], await readBody(req));
      return send(res, oauth.appToken(req.headers.authorization, body));
    }
    if (method === 'POST' && (path === '/2/oauth2/token' || path === '/2/oauth2/revoke')) {
      countRequest(`POST ${path}`);
      await lag();
      if (await oauthFault(`POST ${path}`, res)) return;
      const body = parseFlatBody(req.headers['content-type'], await readBody(req));
      return send(
        res,
        path === '/2/oauth2/token'
          ? oauth.token(req.headers.authorization, body)
          : oauth.revoke(req.headers.authorization, body),
      );
    }
    return send(
      res,
      json(405, { title: 'Method Not Allowed', detail: `${method} ${path}`, type: 'about:blank' }),
    );
  }

  /**
   * A fault armed for a token or revoke call (`endpoint` named explicitly): a status answers X's error
   * body, `timeout` never answers, `reset`/`malformed` cut the connection, `latency` waits then answers;
   * `revoke`/`suspend` have no user here and do nothing. Answers whether the call was handled.
   */
  async function oauthFault(endpoint: string, res: ServerResponse): Promise<boolean> {
    const fault = faults.take(endpoint, null);
    if (!fault) return false;
    switch (fault.kind) {
      case 'status': {
        const status = fault.status as number;
        const title = http.STATUS_CODES[status] ?? 'Error';
        send(res, json(status, { title, detail: title, type: 'about:blank', status }));
        return true;
      }
      case 'timeout':
        hanging.add(res);
        return true;
      case 'reset':
      case 'malformed':
        res.socket?.destroy();
        return true;
      case 'latency':
        await new Promise((r) => setTimeout(r, fault.latencyMs));
        return false;
      default:
        return false;
    }
  }

  let crowdHost: ControlHost['crowd'] = null;
  const sim: SimX = {
    get url() {
      return origin;
    },
    get state() {
      return store.data;
    },
    registerApp(app) {
      if (!app.clientId) throw new SimInputError('clientId', 'is required');
      if (!app.redirectUris.length) throw new SimInputError('redirectUris', 'needs at least one URI');
      if (!app.apiKey !== !app.apiKeySecret)
        throw new SimInputError(
          app.apiKey ? 'apiKeySecret' : 'apiKey',
          'API key and API key secret come together',
        );
      const previous = store.data.apps.find((a) => a.clientId === app.clientId);
      store.data.apps = store.data.apps.filter((a) => a.clientId !== app.clientId);
      store.data.apps.push({
        ...app,
        redirectUris: [...app.redirectUris],
        apiKey: app.apiKey ?? null,
        apiKeySecret: app.apiKeySecret ?? null,
        ownerUserId: app.ownerUserId ?? null,
        appId: previous?.appId ?? String(10_000_000 + store.data.apps.length + 1),
      });
      store.onChange();
    },
    createUser: (input) => ({ id: store.createUser(input).id }),
    createTweet(input) {
      const text = input.longText && input.text.length <= 280 ? input.text + LONG_PADDING : input.text;
      return store.createTweet({ ...input, text });
    },
    sendDm: (input) => store.sendDm(input),
    sendChat(input) {
      if (!input.text) throw new SimInputError('text', 'is required');
      const at = now();
      return store.addChat({
        id: randomUUID(),
        senderId: input.senderId,
        recipientId: input.recipientId,
        conversationId: chatConversationId(input.senderId, input.recipientId),
        text: input.text,
        createdAt: at,
        crypto: chatCrypto({ ...input, now: at }),
      });
    },
    setDelivery(settings) {
      const next = { ...store.data.delivery, ...settings };
      for (const rate of ['dropRate', 'duplicateRate'] as const) {
        if (!(next[rate] >= 0 && next[rate] <= 1)) throw new SimInputError(rate, 'must be between 0 and 1');
      }
      if (!(Number.isInteger(next.delayMs) && next.delayMs >= 0 && next.delayMs <= 600_000))
        throw new SimInputError('delayMs', 'must be an integer from 0 to 600000');
      store.data.delivery = next;
      store.onChange();
      return { ...next };
    },
    setSubscriptionLimit(limit) {
      if (limit === undefined) delete xaaSettings.subscriptionLimit;
      else xaaSettings.subscriptionLimit = limit;
    },
    runCrc: () => xaaEngine.periodicCrc(),
    deliveries: (webhookId) => xaaEngine.deliveries(webhookId),
    deliveriesIdle: () => xaaEngine.idle(),
    setTier(tier) {
      if (!(TIERS as readonly string[]).includes(tier))
        throw new SimInputError('tier', `must be one of ${TIERS.join(', ')}`);
      store.data.tier = tier;
      store.onChange();
    },
    tier: () => store.data.tier,
    setFault(fault) {
      faults.add(faultSchema.parse(fault));
    },
    clearFaults: () => faults.clear(),
    setLatency(profile) {
      const parsed = latencySchema.safeParse(profile);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new SimInputError(issue.path.map(String).join('.') || 'latency', issue.message);
      }
      latency.set(parseLatency(parsed.data));
      return latency.get();
    },
    latency: () => latency.get(),
    firedFaults: () => faults.fired(),
    revokeUserTokens(userId) {
      if (!store.user(userId)) throw new SimInputError('userId', `no user with id ${userId}`, 404);
      oauth.revokeUserTokens(userId);
    },
    suspendUser: (userId) => setSuspended(userId, true),
    setDmAcceptance(userId, acceptance) {
      const user = store.user(userId);
      if (!user) throw new SimInputError('userId', `no user with id ${userId}`, 404);
      user.dmAcceptance = acceptance;
      store.onChange();
    },
    setCredits(usd) {
      store.data.creditsUsd = usd;
      store.onChange();
    },
    setMonthlyReadCap(cap) {
      store.data.monthlyReadCapOverride = cap;
      store.onChange();
    },
    advanceClock(ms) {
      if (!Number.isFinite(ms) || ms < 0)
        throw new SimInputError('advanceMs', 'must be a non-negative number');
      offsetMs += ms;
    },
    now,
    requests: () => ({ ...store.data.requests }),
    billing: () => meter.report(),
    tokenLog: () => oauth.tokenLog,
    rateLimitLog: () => limiter.log,
    signedInUsers: () => oauth.signedInUserIds().map((id) => store.user(id) as SimUser),
    reset() {
      const { apps, appTokens } = store.data;
      crowdHost?.stop();
      xaaEngine.reset();
      mediaApi.reset();
      store.reset();
      store.data.apps = apps;
      store.data.appTokens = appTokens;
      limiter.reset();
      faults.clear();
      meter.reload();
      oauth.tokenLog.length = 0;
      store.onChange();
    },
    flush: () => save(),
    async stop() {
      stopping = true;
      crowdHost?.stop();
      xaaEngine.stop();
      if (saveTimer) clearTimeout(saveTimer);
      saveTimer = undefined;
      await save();
      for (const res of hanging) res.socket?.destroy();
      hanging.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };

  const host: ControlHost = {
    sim,
    store,
    faults,
    get crowd() {
      return crowdHost;
    },
    set crowd(value) {
      crowdHost = value;
    },
    listFaults: () => faults.list(),
  };

  const server = http.createServer((req, res) => {
    if (refuseForeignHost(req, res)) return;
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
    let work: Promise<unknown>;
    if (path.startsWith('/2/oauth2/') || path === '/i/oauth2/authorize' || path === '/oauth2/token')
      work = oauthEndpoints(req, path, query, res);
    else if (path.startsWith('/2/')) work = api(req, path, query, res);
    else if (path.startsWith('/1.1/ton/')) work = Promise.resolve(send(res, TON_UNAUTHORIZED()));
    else if (path.startsWith('/_sim')) {
      if (refuseJsonApiRequest(req, res)) return;
      work = handleControl(host, req, path, query).then((r) => send(res, r));
    } else
      work = Promise.resolve(
        send(res, json(404, { title: 'Not Found Error', detail: `no route ${path}`, type: 'about:blank' })),
      );
    work.catch((error: unknown) => {
      if (error instanceof SimInputError) {
        return send(
          res,
          json(error.status, { error: 'invalid_input', field: error.field, message: error.message }),
        );
      }
      // A simulator bug: answer 500 without echoing request data (it may hold tokens).
      send(
        res,
        json(500, { title: 'Internal Server Error', detail: 'simulator error', type: 'about:blank' }),
      );
      process.emitWarning(`sim-x: ${(error as Error)?.stack ?? String(error)}`);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as { port: number; address: string };
  const hostName = address.address.includes(':') ? `[${address.address}]` : address.address;
  origin = `http://${hostName}:${address.port}`;
  return sim;
}
