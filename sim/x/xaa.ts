/**
 * The v2 Webhooks API and the X Activity API subscription endpoints (X-API.md §7, §9), shaped as
 * X's OpenAPI 2.167 and the official XDK (`@xdevplatform/xdk` WebhooksClient / ActivityClient) send
 * and read them. The server authenticates first (app-only bearer or a user's OAuth 2.0 token) and
 * applies faults, plan access and rate windows; these handlers apply XAA's own rules.
 *
 * Failure bodies: X names reasons (`CrcValidationFailed`, `WebhookIdInvalid`, …) but documents no
 * JSON for them; they come back as problem+json with `errors[0].message` = the reason [uncertain].
 */
import { invalidRequest, json, type SimResponse } from './http-util';
import { SUBSCRIPTION_LIMIT, WEBHOOK_LIMIT, type Tier, type XaaEndpointKey } from './limits';
import type { SimApp, SimSubscription, SimWebhook } from './store';
import type { XaaDelivery, XaaHost } from './xaa-delivery';

/** Every event type `POST /2/activity/subscriptions` accepts (OpenAPI 2.167 enum). */
export const EVENT_TYPES = [
  'profile.update.bio',
  'profile.update.profile_picture',
  'profile.update.banner_picture',
  'profile.update.screenname',
  'profile.update.geo',
  'profile.update.url',
  'profile.update.verified_badge',
  'profile.update.affiliate_badge',
  'profile.update.handle',
  'news.new',
  'follow.follow',
  'follow.unfollow',
  'spaces.start',
  'spaces.end',
  'broadcast.start',
  'broadcast.end',
  'broadcast.chat',
  'chat.received',
  'chat.sent',
  'chat.conversation.join',
  'chat.conversation_join',
  'dm.sent',
  'dm.received',
  'dm.indicate_typing',
  'dm.read',
  'post.create',
  'post.delete',
  'post.mention.create',
  'post.reply.create',
  'post.quote.create',
  'post.repost.create',
  'like.create',
  'mute.mute',
  'mute.unmute',
  'block.block',
  'block.unblock',
] as const;

/** Public events: subscribable with the app-only bearer token (XAA "Event privacy"). */
const PUBLIC = /^(profile\.|post\.create$|post\.delete$|follow\.|spaces\.|broadcast\.(start|end)$|news\.)/;

/** The scope a user token needs per event type (OpenAPI 2.167 `POST /2/activity/subscriptions`). */
function scopeFor(eventType: string): string {
  if (/^(dm|chat)\./.test(eventType)) return 'dm.read';
  if (eventType.startsWith('like.')) return 'like.read';
  if (eventType.startsWith('mute.')) return 'mute.read';
  if (eventType.startsWith('block.')) return 'block.read';
  if (eventType === 'broadcast.chat') return 'broadcast.read';
  return 'tweet.read';
}

/** One authenticated XAA call. */
export interface XaaCall {
  endpoint: XaaEndpointKey;
  params: Record<string, string>;
  query: URLSearchParams;
  body: string;
  app: SimApp;
  /** The user behind a user token; null with the app-only bearer token. */
  userId: string | null;
  scopes: readonly string[];
  tier: Tier;
}

/** Settings the control API and options change at run time. */
export interface XaaSettings {
  /** `x`: X's URL rules (https, no port); `local` (default): any http(s) URL, for loopback receivers. */
  webhookUrlRule: 'x' | 'local';
  /** Overrides the tier's subscription cap (tests); undefined = the tier's. */
  subscriptionLimit?: number | null;
  /** Overrides the tier's webhook cap; undefined = the tier's. */
  webhookLimit?: number | null;
  /**
   * `oauth.revoke` is a documented event missing from the subscription enum (X-API.md §9): accepted
   * unless this is false, so a connector can be tested both ways.
   */
  oauthRevokeSubscribable: boolean;
}

const TITLES: Record<number, string> = { 400: 'Invalid Request', 403: 'Forbidden', 409: 'Conflict' };

function failure(status: number, reason: string, detail: string): SimResponse {
  return json(status, {
    errors: [{ message: reason, detail }],
    title: TITLES[status] ?? 'Error',
    detail,
    type: status === 400 ? 'https://api.x.com/2/problems/invalid-request' : 'about:blank',
    status,
  });
}

const iso = (ms: number) => new Date(ms).toISOString();
const ID = /^[0-9]{1,19}$/;

class Invalid extends Error {
  constructor(readonly response: SimResponse) {
    super('invalid');
  }
}

function jsonBody(call: XaaCall, allowed: readonly string[]): Record<string, unknown> {
  let value: unknown;
  try {
    value = call.body ? JSON.parse(call.body) : {};
  } catch {
    throw new Invalid(invalidRequest('body', call.body.slice(0, 40), 'The request body is not valid JSON.'));
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new Invalid(invalidRequest('body', '', 'The request body must be a JSON object.'));
  }
  const extra = Object.keys(value).find((k) => !allowed.includes(k));
  if (extra)
    throw new Invalid(
      invalidRequest(
        extra,
        '',
        `$.${extra}: is not defined in the schema and the schema does not allow additional properties`,
      ),
    );
  return value as Record<string, unknown>;
}

/** The subscription object as X renders it. */
export function renderSubscription(sub: SimSubscription): Record<string, unknown> {
  const out: Record<string, unknown> = {
    subscription_id: sub.id,
    event_type: sub.eventType,
    filter: sub.userId === null ? {} : { user_id: sub.userId },
    created_at: iso(sub.createdAt),
    updated_at: iso(sub.updatedAt),
  };
  if (sub.tag !== null) out.tag = sub.tag;
  if (sub.webhookId !== null) out.webhook_id = sub.webhookId;
  return out;
}

/** Parses X's `yyyymmddhhmm` (UTC, minute granularity); NaN when malformed. */
function parseMinute(text: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (!m) return NaN;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  return new Date(ms).getUTCMinutes() === +m[5] && new Date(ms).getUTCDate() === +m[3] ? ms : NaN;
}

/** The XAA endpoints. */
export class XaaApi {
  constructor(
    private readonly host: XaaHost,
    private readonly engine: XaaDelivery,
    readonly settings: XaaSettings,
  ) {}

  private get data() {
    return this.host.store.data;
  }

  subscriptionLimit(): number | null {
    return this.settings.subscriptionLimit !== undefined
      ? this.settings.subscriptionLimit
      : SUBSCRIPTION_LIMIT[this.data.tier];
  }

  private hooksOf(app: SimApp): SimWebhook[] {
    return this.data.webhooks.filter((w) => w.clientId === app.clientId);
  }

  private subsOf(app: SimApp): SimSubscription[] {
    return this.data.subscriptions.filter((s) => s.clientId === app.clientId);
  }

  private hookOf(app: SimApp, id: unknown): SimWebhook {
    const hook = typeof id === 'string' ? this.hooksOf(app).find((w) => w.id === id) : undefined;
    if (!hook)
      throw new Invalid(
        failure(
          400,
          'WebhookIdInvalid',
          `The webhook_id ${String(id)} was not found or is not associated with this app.`,
        ),
      );
    return hook;
  }

  /** Runs one XAA call. */
  async handle(call: XaaCall): Promise<SimResponse> {
    try {
      switch (call.endpoint) {
        case 'POST /2/webhooks':
          return await this.createWebhook(call);
        case 'GET /2/webhooks': {
          const hooks = this.hooksOf(call.app).map((w) => ({
            created_at: iso(w.createdAt),
            id: w.id,
            url: w.url,
            valid: w.valid,
          }));
          return json(200, { data: hooks, meta: { result_count: hooks.length } });
        }
        case 'PUT /2/webhooks/:webhook_id': {
          const hook = this.hookOf(call.app, call.params.webhook_id);
          const outcome = await this.engine.crc(hook);
          if (outcome !== 'ok')
            return failure(
              400,
              'CrcValidationFailed',
              `The webhook URL did not answer the CRC correctly (${outcome}).`,
            );
          return json(200, { data: { valid: true } });
        }
        case 'DELETE /2/webhooks/:webhook_id': {
          const hook = this.hookOf(call.app, call.params.webhook_id);
          this.data.webhooks = this.data.webhooks.filter((w) => w !== hook);
          this.host.store.onChange();
          return json(200, { data: { deleted: true } });
        }
        case 'POST /2/webhooks/replay':
          return this.replay(call);
        case 'POST /2/activity/subscriptions':
          return this.createSubscription(call);
        case 'GET /2/activity/subscriptions':
          return this.listSubscriptions(call);
        case 'PUT /2/activity/subscriptions/:subscription_id':
          return this.updateSubscription(call);
        case 'DELETE /2/activity/subscriptions/:subscription_id':
          return this.deleteSubscriptions(call, [call.params.subscription_id], true);
        case 'DELETE /2/activity/subscriptions': {
          const ids = (call.query.get('ids') ?? '').split(',').filter(Boolean);
          if (!ids.length || ids.length > 100 || !ids.every((i) => ID.test(i))) {
            return invalidRequest(
              'ids',
              call.query.get('ids') ?? '',
              'ids must be 1 to 100 comma-separated subscription ids.',
            );
          }
          return this.deleteSubscriptions(call, ids, false);
        }
      }
    } catch (error) {
      if (error instanceof Invalid) return error.response;
      throw error;
    }
  }

  private async createWebhook(call: XaaCall): Promise<SimResponse> {
    const body = jsonBody(call, ['url']);
    const url = body.url;
    if (typeof url !== 'string' || !url || url.length > 200) {
      return invalidRequest('url', url, '$.url: must be a string of 1 to 200 characters');
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return failure(400, 'UrlValidationFailed', `The webhook URL ${url} is not a valid URL.`);
    }
    const strict = this.settings.webhookUrlRule === 'x';
    if (strict ? parsed.protocol !== 'https:' || parsed.port !== '' : !/^https?:$/.test(parsed.protocol)) {
      return failure(
        400,
        'UrlValidationFailed',
        strict
          ? 'The webhook URL must use HTTPS and must not include a port.'
          : 'The webhook URL must be http(s).',
      );
    }
    const mine = this.hooksOf(call.app);
    if (mine.some((w) => w.url === url))
      return failure(
        409,
        'DuplicateUrlFailed',
        'A webhook is already registered by your application for this URL.',
      );
    const limit =
      this.settings.webhookLimit !== undefined ? this.settings.webhookLimit : WEBHOOK_LIMIT[call.tier];
    if (limit !== null && mine.length >= limit) {
      return failure(
        403,
        'WebhookLimitExceeded',
        `Your application has reached the maximum number of allowed webhooks (${limit}).`,
      );
    }
    const now = this.host.now();
    const hook: SimWebhook = {
      id: this.host.store.nextId(),
      clientId: call.app.clientId,
      url,
      valid: false,
      createdAt: now,
      lastCrcOkAt: null,
    };
    // X sends the CRC before answering; a webhook that fails it is not created (X-API.md §7).
    if ((await this.engine.crc(hook)) !== 'ok') {
      return failure(
        400,
        'CrcValidationFailed',
        'The webhook URL did not respond correctly to the CRC check (timed out or wrong response_token).',
      );
    }
    this.data.webhooks.push(hook);
    this.host.store.onChange();
    return json(200, {
      data: { created_at: iso(hook.createdAt), id: hook.id, url: hook.url, valid: hook.valid },
    });
  }

  private replay(call: XaaCall): SimResponse {
    const body = jsonBody(call, ['webhook_id', 'from_date', 'to_date']);
    for (const name of ['webhook_id', 'from_date', 'to_date'] as const) {
      const pattern = name === 'webhook_id' ? ID : /^[0-9]{12}$/;
      if (typeof body[name] !== 'string' || !pattern.test(body[name])) {
        return invalidRequest(
          name,
          body[name],
          `$.${name}: ${name === 'webhook_id' ? 'an id' : 'a yyyymmddhhmm UTC timestamp'} is required`,
        );
      }
    }
    const hook = this.hookOf(call.app, body.webhook_id);
    const from = parseMinute(body.from_date as string);
    const to = parseMinute(body.to_date as string);
    const now = this.host.now();
    const bad = (why: string) => failure(400, 'QueryParamInvalid', why);
    if (Number.isNaN(from) || Number.isNaN(to))
      return bad('from_date or to_date is not in the yyyymmddhhmm format.');
    if (from > now) return bad('from_date is in the future.');
    if (to > now) return bad('to_date is in the future.');
    if (from > to) return bad('from_date is more recent than to_date.');
    // "up to the past 24 hours" (X-API.md §9); minute granularity, so the minute 24 h ago counts.
    if (from < Math.floor((now - 86_400_000) / 60_000) * 60_000)
      return bad('from_date is older than 24 hours from the current time.');
    if (!hook.valid)
      return failure(
        400,
        'CrcValidationFailed',
        'The webhook is invalid: re-validate it (PUT /2/webhooks/:id) before a replay.',
      );
    // Both ends inclusive at minute granularity (OpenAPI 2.167: "newest (inclusive)").
    const job = this.engine.startReplay(hook, from, to + 60_000);
    if (!job)
      return failure(409, 'ReplayConflictError', 'A replay job is already in progress for this webhook.');
    return json(200, { data: { job_id: job.jobId, created_at: iso(job.createdAt) } });
  }

  private createSubscription(call: XaaCall): SimResponse {
    const body = jsonBody(call, ['event_type', 'filter', 'tag', 'webhook_id']);
    const eventType = body.event_type;
    const known =
      typeof eventType === 'string' &&
      ((EVENT_TYPES as readonly string[]).includes(eventType) ||
        (eventType === 'oauth.revoke' && this.settings.oauthRevokeSubscribable));
    if (!known) {
      return invalidRequest(
        'event_type',
        eventType,
        `$.event_type: does not have a value in the enumeration [${EVENT_TYPES.join(', ')}]`,
      );
    }
    const type = eventType as string;
    const filter = body.filter;
    if (!filter || typeof filter !== 'object' || Array.isArray(filter))
      return invalidRequest('filter', filter, '$.filter: object expected');
    const f = filter as Record<string, unknown>;
    const extra = Object.keys(f).find((k) => !['user_id', 'direction', 'keyword'].includes(k));
    if (extra)
      return invalidRequest(`filter.${extra}`, f[extra], `$.filter.${extra}: is not defined in the schema`);
    if (f.user_id !== undefined && (typeof f.user_id !== 'string' || !ID.test(f.user_id))) {
      return invalidRequest('filter.user_id', f.user_id, '$.filter.user_id: a user id is required');
    }
    const userId = (f.user_id as string | undefined) ?? null;
    if (userId === null && type !== 'oauth.revoke')
      return invalidRequest('filter.user_id', '', `$.filter.user_id: ${type} filters on user_id`);
    if (userId !== null && !this.host.store.user(userId))
      return invalidRequest('filter.user_id', userId, `Could not find user with user_id: [${userId}].`);
    if (
      body.tag !== undefined &&
      (typeof body.tag !== 'string' || body.tag.length < 1 || body.tag.length > 200)
    ) {
      return invalidRequest('tag', body.tag, '$.tag: must be a string of 1 to 200 characters');
    }
    if (body.webhook_id !== undefined) this.hookOf(call.app, body.webhook_id);
    // Private events need the user's own OAuth 2.0 token with the matching scope (X-API.md §9).
    if (!PUBLIC.test(type) && type !== 'oauth.revoke') {
      if (call.userId === null) {
        return json(403, {
          title: 'Forbidden',
          type: 'about:blank',
          status: 403,
          detail: `${type} is a private event: create the subscription with the user's OAuth 2.0 token (user context), not the app-only bearer token.`,
        });
      }
      if (call.userId !== userId) {
        return json(403, {
          title: 'Forbidden',
          type: 'about:blank',
          status: 403,
          detail: 'Private events can only be subscribed for the authenticated user.',
        });
      }
    }
    if (call.userId !== null && !call.scopes.includes(scopeFor(type))) {
      return json(403, {
        detail: 'Forbidden',
        type: 'about:blank',
        title: 'Forbidden',
        status: 403,
        missing_scopes: [scopeFor(type)],
      });
    }
    const mine = this.subsOf(call.app);
    const webhookId = (body.webhook_id as string | undefined) ?? null;
    if (mine.some((s) => s.eventType === type && s.userId === userId && s.webhookId === webhookId)) {
      return failure(
        409,
        'DuplicateSubscriptionFailed',
        `A ${type} subscription for this filter and webhook already exists.`,
      );
    }
    const limit = this.subscriptionLimit();
    if (limit !== null && mine.length >= limit) {
      return failure(
        403,
        'SubscriptionLimitExceeded',
        `The application has reached its subscription limit (${limit}).`,
      );
    }
    const now = this.host.now();
    const sub: SimSubscription = {
      id: this.host.store.nextId(),
      clientId: call.app.clientId,
      eventType: type,
      userId,
      tag: (body.tag as string | undefined) ?? null,
      webhookId,
      createdAt: now,
      updatedAt: now,
    };
    this.data.subscriptions.push(sub);
    this.host.store.onChange();
    return json(200, {
      data: { subscription: renderSubscription(sub) },
      meta: { total_subscriptions: mine.length + 1 },
    });
  }

  private listSubscriptions(call: XaaCall): SimResponse {
    // The OpenAPI asks user tokens for like.read and tweet.read here; the app-only bearer needs nothing.
    if (call.userId !== null) {
      const missing = ['like.read', 'tweet.read'].filter((s) => !call.scopes.includes(s));
      if (missing.length)
        return json(403, {
          detail: 'Forbidden',
          type: 'about:blank',
          title: 'Forbidden',
          status: 403,
          missing_scopes: missing,
        });
    }
    const maxText = call.query.get('max_results');
    const max = maxText === null ? 100 : Number(maxText);
    if (!Number.isInteger(max) || max < 1 || max > 1000)
      return invalidRequest(
        'max_results',
        maxText,
        'The `max_results` query parameter value [' + String(maxText) + '] is not between 1 and 1000',
      );
    const token = call.query.get('pagination_token');
    let after = '';
    if (token !== null) {
      after = Buffer.from(token, 'hex').toString('utf8').replace(/^sub:/, '');
      if (!/^sub:/.test(Buffer.from(token, 'hex').toString('utf8')))
        return invalidRequest('pagination_token', token, 'The pagination token is invalid.');
    }
    const all = this.subsOf(call.app);
    const start = after ? all.findIndex((s) => s.id === after) + 1 : 0;
    const page = all.slice(start, start + max);
    const meta: Record<string, unknown> = { result_count: page.length };
    if (start + max < all.length)
      meta.next_token = Buffer.from(`sub:${page[page.length - 1].id}`).toString('hex');
    return json(200, { data: page.map(renderSubscription), meta });
  }

  private updateSubscription(call: XaaCall): SimResponse {
    const body = jsonBody(call, ['tag', 'webhook_id']);
    const sub = this.subsOf(call.app).find((s) => s.id === call.params.subscription_id);
    if (!sub)
      return failure(
        400,
        'SubscriptionIdInvalid',
        `The subscription ${call.params.subscription_id} was not found for this app.`,
      );
    if (
      body.tag !== undefined &&
      (typeof body.tag !== 'string' || body.tag.length < 1 || body.tag.length > 200)
    ) {
      return invalidRequest('tag', body.tag, '$.tag: must be a string of 1 to 200 characters');
    }
    if (body.webhook_id !== undefined) this.hookOf(call.app, body.webhook_id);
    if (body.tag !== undefined) sub.tag = body.tag as string;
    if (body.webhook_id !== undefined) sub.webhookId = body.webhook_id as string;
    sub.updatedAt = this.host.now();
    this.host.store.onChange();
    return json(200, {
      data: { subscription: renderSubscription(sub), total_subscriptions: this.subsOf(call.app).length },
    });
  }

  private deleteSubscriptions(call: XaaCall, ids: string[], single: boolean): SimResponse {
    const mine = new Set(this.subsOf(call.app).map((s) => s.id));
    const found = ids.filter((id) => mine.has(id));
    if (found.length) {
      this.data.subscriptions = this.data.subscriptions.filter((s) => !found.includes(s.id));
      this.host.store.onChange();
    }
    const total = this.subsOf(call.app).length;
    if (single) {
      if (!found.length)
        return failure(
          400,
          'SubscriptionIdInvalid',
          `The subscription ${ids[0]} was not found for this app.`,
        );
      return json(200, { data: { deleted: true }, meta: { total_subscriptions: total } });
    }
    const missing = ids.filter((id) => !mine.has(id));
    return json(200, {
      data: found.map((id) => ({ deleted: true, subscription_id: id })),
      ...(missing.length
        ? {
            errors: missing.map((id) => ({
              subscription_id: id,
              reason: 'SubscriptionIdInvalid',
              message: `The subscription ${id} was not found for this app.`,
            })),
          }
        : {}),
      meta: { total_subscriptions: total },
    });
  }
}
