/**
 * The `/_sim` control API (DESIGN.md "Local surfaces", fixed paths and fields) plus our additions.
 * JSON in and out; bad input is a 400 naming the field (zod).
 */
import { dmPhotoSha256, SIM_VIDEO_BIT_RATES, simMediaType, simVideoBytes } from './dm-media';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { startCrowd, type Crowd } from './crowd';
import { faultSchema, type FaultTable } from './faults';
import { latencySchema } from './latency';
import { json, readBody, type SimResponse } from './http-util';
import { TIERS } from './limits';
import { SimInputError, type SimStore } from './store';
import type { SimX } from './server';

/** What the control API drives. */
export interface ControlHost {
  sim: SimX;
  store: SimStore;
  faults: FaultTable;
  crowd: Crowd | null;
  listFaults(): unknown[];
}

const id = z.string().regex(/^[0-9]{1,19}$/, 'must be a numeric id');
const schemas = {
  user: z.object({ username: z.string(), name: z.string() }).strict(),
  tweet: z
    .object({
      authorId: id,
      text: z.string().min(1).max(25_000),
      inReplyToId: id.nullish(),
      quoteOfId: id.nullish(),
      mediaCount: z.number().int().min(0).max(4).optional(),
      mediaType: z.enum(['photo', 'video', 'animated_gif']).optional(),
      longText: z.boolean().optional(),
    })
    .strict(),
  dm: z
    .object({
      senderId: id,
      recipientId: id,
      text: z.string().min(1).max(10_000),
      mediaCount: z.number().int().min(0).max(1).optional(),
    })
    .strict(),
  tier: z.object({ tier: z.enum(TIERS) }).strict(),
  app: z
    .object({
      clientId: z.string().min(1).max(100),
      clientSecret: z.string().min(1).max(200).nullable().optional(),
      name: z.string().min(1).max(100),
      redirectUris: z.array(z.string().url()).min(1),
      apiKey: z.string().min(1).max(200).nullable().optional(),
      apiKeySecret: z.string().min(1).max(200).nullable().optional(),
      ownerUserId: id.nullable().optional(),
    })
    .strict(),
  chat: z.object({ senderId: id, recipientId: id, text: z.string().min(1).max(10_000) }).strict(),
  delivery: z
    .object({
      dropRate: z.number().min(0).max(1).optional(),
      duplicateRate: z.number().min(0).max(1).optional(),
      delayMs: z.number().int().min(0).max(600_000).optional(),
    })
    .strict(),
  subscriptionLimit: z.object({ limit: z.number().int().min(0).nullable() }).strict(),
  credits: z.object({ usd: z.number().nullable() }).strict(),
  cap: z.object({ cap: z.number().int().min(0).nullable() }).strict(),
  clock: z
    .object({ advanceMs: z.number().min(0).optional(), advanceSeconds: z.number().min(0).optional() })
    .strict(),
  acceptance: z.object({ acceptance: z.enum(['everyone', 'following', 'none']) }).strict(),
  crowd: z
    .object({
      ratePerMinute: z.number().min(0).max(6000),
      targets: z.union([z.literal('all-signed-in'), z.array(id).min(1)]).optional(),
      seed: z.number().int().optional(),
    })
    .strict(),
};

async function parse<T>(req: IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  const text = await readBody(req);
  let value: unknown;
  try {
    value = text ? JSON.parse(text) : {};
  } catch {
    throw new SimInputError('body', 'must be JSON');
  }
  return check(schema, value);
}

function check<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field =
    issue.code === 'unrecognized_keys' ? issue.keys.join(',') : issue.path.map(String).join('.') || 'body';
  throw new SimInputError(field, issue.message);
}

const iso = (ms: number) => new Date(ms).toISOString();

function avatarSvg(seed: string, label: string): string {
  let hash = 0;
  for (const c of seed) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  const hue = hash % 360;
  const letter = label
    .slice(0, 1)
    .toUpperCase()
    .replace(/[^A-Z0-9]/, '?');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96"><rect width="96" height="96" rx="48" fill="hsl(${hue},60%,45%)"/><text x="48" y="60" font-size="44" text-anchor="middle" fill="#fff" font-family="sans-serif">${letter}</text></svg>`;
}

/**
 * `media` of `/_sim/tweets` and `/_sim/dms` (DESIGN.md): uploaded media as hashed at finalize; media made
 * by `mediaCount` as the bytes served: `/_sim/media/:key.svg` for posts, the authenticated DM media
 * download for DMs (./dm-media.ts).
 */
function mediaEntries(store: SimStore, keys: readonly string[], of: 'tweet' | 'dm' = 'tweet') {
  return keys.map((key) => {
    const uploaded = store.mediaByKey(key);
    if (uploaded) return { mediaKey: key, type: uploaded.type, sha256: uploaded.sha256 };
    const type = simMediaType(key);
    if (type !== 'photo') {
      // a video or GIF: the bytes of its best mp4 variant (what a client should take)
      const best = SIM_VIDEO_BIT_RATES[SIM_VIDEO_BIT_RATES.length - 1];
      return {
        mediaKey: key,
        type,
        sha256: createHash('sha256').update(simVideoBytes(key, best)).digest('hex'),
      };
    }
    return {
      mediaKey: key,
      type: 'photo',
      // a DM's photo: the PNG the authenticated download answers (./dm-media.ts)
      sha256:
        of === 'dm' ? dmPhotoSha256(key) : createHash('sha256').update(avatarSvg(key, 'P')).digest('hex'),
    };
  });
}

const svg = (body: string): SimResponse => ({
  status: 200,
  body,
  headers: { 'content-type': 'image/svg+xml', 'cache-control': 'max-age=3600' },
});

/** Handles one `/_sim…` request. */
export async function handleControl(
  host: ControlHost,
  req: IncomingMessage,
  path: string,
  query: URLSearchParams,
): Promise<SimResponse> {
  const { sim, store } = host;
  const method = req.method ?? 'GET';
  const route = `${method} ${path}`;
  let m: RegExpExecArray | null;

  switch (route) {
    case 'POST /_sim/users': {
      const input = await parse(req, schemas.user);
      return json(201, sim.createUser(input));
    }
    case 'GET /_sim/users':
      return json(200, {
        data: store.data.users.map((u) => ({
          id: u.id,
          username: u.username,
          name: u.name,
          suspended: u.suspended,
          dmAcceptance: u.dmAcceptance,
          createdAt: iso(u.createdAt),
        })),
      });
    case 'POST /_sim/tweets': {
      const input = await parse(req, schemas.tweet);
      const t = sim.createTweet({
        ...input,
        inReplyToId: input.inReplyToId ?? undefined,
        quoteOfId: input.quoteOfId ?? undefined,
      });
      return json(201, { id: t.id, conversationId: t.conversationId });
    }
    case 'GET /_sim/tweets': {
      const authorId = query.get('authorId');
      if (authorId !== null) check(id, authorId);
      const tweets = authorId === null ? store.data.tweets : store.postsBy(authorId);
      return json(200, {
        data: tweets.map((t) => ({
          id: t.id,
          authorId: t.authorId,
          text: t.text,
          inReplyToId: t.inReplyToId,
          conversationId: t.conversationId,
          createdAt: iso(t.createdAt),
          media: mediaEntries(store, t.mediaKeys),
        })),
      });
    }
    case 'POST /_sim/dms': {
      const input = await parse(req, schemas.dm);
      const dm = sim.sendDm(input);
      return json(201, { id: dm.id, conversationId: dm.conversationId });
    }
    case 'GET /_sim/dms': {
      const senderId = query.get('senderId');
      if (senderId !== null) check(id, senderId);
      const dms =
        senderId === null ? store.data.dms : store.dmsOf(senderId).filter((d) => d.senderId === senderId);
      return json(200, {
        data: dms.map((d) => ({
          id: d.id,
          senderId: d.senderId,
          recipientId: d.recipientId,
          conversationId: d.conversationId,
          text: d.text,
          createdAt: iso(d.createdAt),
          media: mediaEntries(store, d.mediaKeys, 'dm'),
        })),
      });
    }
    case 'POST /_sim/chats': {
      const chat = sim.sendChat(await parse(req, schemas.chat));
      return json(201, { id: chat.id, conversationId: chat.conversationId });
    }
    case 'GET /_sim/chats': {
      const senderId = query.get('senderId');
      if (senderId !== null) check(id, senderId);
      return json(200, {
        data: store.data.chats
          .filter((c) => senderId === null || c.senderId === senderId)
          .map((c) => ({
            id: c.id,
            senderId: c.senderId,
            recipientId: c.recipientId,
            conversationId: c.conversationId,
            text: c.text,
            createdAt: iso(c.createdAt),
          })),
      });
    }
    case 'GET /_sim/webhooks':
      return json(200, { data: store.data.webhooks.map((w) => ({ id: w.id, url: w.url, valid: w.valid })) });
    case 'POST /_sim/webhooks/crc':
      return json(200, { data: await sim.runCrc() });
    case 'GET /_sim/subscriptions': {
      const userId = query.get('userId');
      if (userId !== null) check(id, userId);
      return json(200, {
        data: store.data.subscriptions
          .filter((s) => userId === null || s.userId === userId)
          .map((s) => ({ id: s.id, userId: s.userId, eventType: s.eventType, webhookId: s.webhookId })),
      });
    }
    case 'PUT /_sim/subscription-limit': {
      const { limit } = await parse(req, schemas.subscriptionLimit);
      sim.setSubscriptionLimit(limit);
      return json(200, { limit });
    }
    case 'GET /_sim/latency':
      return json(200, sim.latency());
    case 'PUT /_sim/latency':
      return json(200, sim.setLatency(await parse(req, latencySchema)));
    case 'GET /_sim/delivery':
      return json(200, { ...store.data.delivery });
    case 'PUT /_sim/delivery':
      return json(200, sim.setDelivery(await parse(req, schemas.delivery)));
    case 'GET /_sim/deliveries': {
      const webhookId = query.get('webhookId');
      if (webhookId !== null) check(id, webhookId);
      return json(200, {
        data: sim.deliveries(webhookId ?? undefined).map((r) => ({
          ...r,
          createdAt: iso(r.createdAt),
          attempts: r.attempts.map((a) => ({ ...a, at: iso(a.at) })),
        })),
      });
    }
    case 'POST /_sim/deliveries/drain':
      await sim.deliveriesIdle();
      return json(200, { idle: true });
    case 'GET /_sim/follows': {
      const userId = query.get('userId');
      if (userId === null) throw new SimInputError('userId', 'query parameter is required');
      check(id, userId);
      return json(200, { data: store.follows(userId) });
    }
    case 'GET /_sim/requests':
      return json(200, { data: sim.requests() });
    case 'GET /_sim/billing':
      return json(200, { tier: sim.tier(), ...sim.billing() });
    case 'GET /_sim/tier':
      return json(200, { tier: sim.tier() });
    case 'PUT /_sim/tier': {
      const { tier } = await parse(req, schemas.tier);
      sim.setTier(tier);
      return json(200, { tier });
    }
    case 'GET /_sim/faults':
      return json(200, { data: host.listFaults() });
    case 'POST /_sim/faults': {
      const fault = await parse(req, faultSchema);
      sim.setFault(fault);
      return json(201, { data: host.listFaults() });
    }
    case 'DELETE /_sim/faults':
      sim.clearFaults();
      return json(200, { data: [] });
    case 'POST /_sim/reset':
      sim.reset();
      return json(200, { reset: true });
    case 'POST /_sim/apps': {
      const app = await parse(req, schemas.app);
      sim.registerApp({
        ...app,
        clientSecret: app.clientSecret ?? null,
        apiKey: app.apiKey ?? null,
        apiKeySecret: app.apiKeySecret ?? null,
        ownerUserId: app.ownerUserId ?? null,
      });
      return json(201, { clientId: app.clientId });
    }
    case 'POST /_sim/credits': {
      const { usd } = await parse(req, schemas.credits);
      sim.setCredits(usd);
      return json(200, { creditsUsd: usd });
    }
    case 'POST /_sim/usage-cap': {
      const { cap } = await parse(req, schemas.cap);
      sim.setMonthlyReadCap(cap);
      return json(200, { cap });
    }
    case 'GET /_sim/clock':
      return json(200, { now: sim.now(), iso: iso(sim.now()) });
    case 'POST /_sim/clock': {
      const input = await parse(req, schemas.clock);
      sim.advanceClock((input.advanceMs ?? 0) + (input.advanceSeconds ?? 0) * 1000);
      return json(200, { now: sim.now(), iso: iso(sim.now()) });
    }
    case 'GET /_sim/token-log':
      return json(200, { data: sim.tokenLog() });
    case 'GET /_sim/rate-limit-log':
      return json(200, { data: sim.rateLimitLog().slice(-1000) });
    case 'POST /_sim/crowd': {
      const input = await parse(req, schemas.crowd);
      host.crowd?.stop();
      host.crowd = null;
      if (input.ratePerMinute > 0) {
        host.crowd = startCrowd(sim, {
          ratePerMinute: input.ratePerMinute,
          targets: input.targets ?? 'all-signed-in',
          seed: input.seed,
        });
      }
      return json(200, { running: host.crowd !== null, ratePerMinute: input.ratePerMinute });
    }
    case 'DELETE /_sim/crowd':
      host.crowd?.stop();
      host.crowd = null;
      return json(200, { running: false });
  }
  if (
    method === 'POST' &&
    (m = /^\/_sim\/users\/([0-9]{1,19})\/(revoke|suspend|dm-acceptance)$/.exec(path))
  ) {
    const userId = m[1];
    if (m[2] === 'revoke') sim.revokeUserTokens(userId);
    else if (m[2] === 'suspend') sim.suspendUser(userId);
    else sim.setDmAcceptance(userId, (await parse(req, schemas.acceptance)).acceptance);
    return json(200, { id: userId });
  }
  if (method === 'GET' && (m = /^\/_sim\/avatars\/([0-9]{1,19})\.svg$/.exec(path))) {
    const user = store.user(m[1]);
    if (!user) return json(404, { error: 'not_found', field: 'id', message: 'no such user' });
    return svg(avatarSvg(user.id, user.name));
  }
  if (method === 'GET' && (m = /^\/_sim\/media\/((?:7|16)_[0-9]{1,21})-([0-9]{1,9})\.mp4$/.exec(path))) {
    const rate = Number(m[2]);
    if (!store.hasMedia(m[1]) || !(SIM_VIDEO_BIT_RATES as readonly number[]).includes(rate))
      return json(404, { error: 'not_found', field: 'media_key', message: 'no such media' });
    return {
      status: 200,
      body: simVideoBytes(m[1], rate),
      headers: { 'content-type': 'video/mp4', 'cache-control': 'max-age=3600' },
    };
  }
  if (method === 'GET' && (m = /^\/_sim\/media\/((?:3|7|16)_[0-9]{1,21})\.svg$/.exec(path))) {
    if (!store.hasMedia(m[1]))
      return json(404, { error: 'not_found', field: 'media_key', message: 'no such media' });
    return svg(avatarSvg(m[1], 'P'));
  }
  return json(404, { error: 'not_found', message: `no control route ${route}` });
}
