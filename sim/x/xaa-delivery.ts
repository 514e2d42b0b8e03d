/**
 * How the simulated X pushes X Activity API events to webhooks (X-API.md §7, §9):
 * - an event is generated per matching subscription when a post, DM or chat is created or a user
 *   revokes the app, kept 24 h (+1 h) for replay whether or not it could be delivered;
 * - a live delivery waits `delayMs`, may be dropped (`dropRate`) or sent twice (`duplicateRate`, same
 *   `event_uuid` and bytes: X says to dedupe by event id), and is a signed POST
 *   (`x-twitter-webhooks-signature: sha256=` + base64 HMAC-SHA256(API key secret, raw body));
 * - X documents no retries for v2 webhook deliveries, so a failed POST is not retried: replay recovers it;
 * - CRC: `GET <url>?crc_token=…` expecting `{"response_token":"sha256=…"}` at registration, on PUT and
 *   hourly; a wrong token or a 3xx marks the webhook invalid at once, 4xx/5xx/timeouts are transient
 *   until 28 h pass without a good answer; an invalid webhook gets no deliveries until a PUT passes;
 * - replay (`POST /2/webhooks/replay`): one job at a time per webhook, events re-sent one by one,
 *   then a `replay_job_status` event;
 * - billing: each delivered (2xx) event once per event type and object per UTC day.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { XAA_TIERS } from './limits';
import type { BillingMeter } from './meters';
import type { SimOAuth } from './oauth';
import { newEventUuid, objectIdOf, renderEvent } from './xaa-payloads';
import type { CreatedItem, SimApp, SimStore, SimSubscription, SimWebhook, SimXaaEvent } from './store';
import twitterText from 'twitter-text';

/** What the engine needs from the simulator. */
export interface XaaHost {
  store: SimStore;
  oauth: SimOAuth;
  meter: BillingMeter;
  now(): number;
  origin(): string;
}

/** Engine options fixed at start. */
export interface XaaDeliveryOptions {
  /** X wants an answer within 10 s (X-API.md §7). */
  webhookTimeoutMs: number;
  /** Periodic CRC of valid webhooks; X: hourly. 0 = only on demand (`POST /_sim/webhooks/crc`). */
  crcIntervalMs: number;
  /** Random source for drops and duplicates (tests seed it). */
  random: () => number;
}

/** One send of an event. `status` 0 = no HTTP answer (timeout, refused connection). */
export interface DeliveryAttempt {
  at: number;
  status: number;
  mode: 'live' | 'duplicate' | 'replay';
}

/** What happened to one event (`GET /_sim/deliveries`). */
export interface DeliveryRecord {
  eventUuid: string;
  webhookId: string;
  subscriptionId: string;
  eventType: string;
  objectId: string;
  createdAt: number;
  dropped: boolean;
  attempts: DeliveryAttempt[];
}

/** A CRC outcome: `invalid` marks the webhook invalid now, `transient` only after 28 h of them. */
export type CrcOutcome = 'ok' | 'invalid' | 'transient';

const EVENT_RETENTION_MS = 25 * 3_600_000;
const TRANSIENT_GRACE_MS = 28 * 3_600_000;
const MAX_RECORDS = 100_000;
const MAX_EVENTS = 50_000;

/** Events on content the filtered user did not author need their authorization (XAA "Private events"). */
const PRIVATE =
  /^(post\.(mention|reply|quote|repost)\.create|dm\.|chat\.|like\.|mute\.|block\.|broadcast\.chat)/;

/** The HMAC X signs webhook bodies and CRC tokens with (X-API.md §7). */
export function webhookSignature(secret: string, message: string): string {
  return `sha256=${createHmac('sha256', secret).update(message).digest('base64')}`;
}

/** The delivery engine. */
export class XaaDelivery {
  private timers = new Set<NodeJS.Timeout>();
  private inflight = new Set<Promise<unknown>>();
  private records = new Map<string, DeliveryRecord>();
  private replaying = new Map<string, string>();
  private crcTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly host: XaaHost,
    private readonly options: XaaDeliveryOptions,
  ) {
    if (options.crcIntervalMs > 0) {
      this.crcTimer = setInterval(() => void this.track(this.periodicCrc()), options.crcIntervalMs);
      this.crcTimer.unref();
    }
  }

  private get data() {
    return this.host.store.data;
  }

  private app(clientId: string): SimApp | undefined {
    return this.data.apps.find((a) => a.clientId === clientId);
  }

  private webhook(id: string | null): SimWebhook | undefined {
    return id === null ? undefined : this.data.webhooks.find((w) => w.id === id);
  }

  /** Whether `sub` fires for `item`; `named` = the users a post @mentions explicitly. */
  private matches(sub: SimSubscription, item: CreatedItem, named: ReadonlySet<string>): boolean {
    const uid = sub.userId;
    if (item.kind === 'tweet') {
      const t = item.tweet;
      if (sub.eventType === 'post.create') return t.authorId === uid;
      if (t.authorId === uid) return false;
      switch (sub.eventType) {
        case 'post.mention.create':
          // Explicit @mentions in the body only; a reply's implicit mention does not fire (X-API.md §9).
          return uid !== null && named.has(uid);
        case 'post.reply.create':
          return t.inReplyToUserId === uid;
        case 'post.quote.create':
          return !!t.quoteOfId && this.host.store.tweet(t.quoteOfId)?.authorId === uid;
        default:
          return false;
      }
    }
    if (item.kind === 'dm') {
      if (sub.eventType === 'dm.received') return item.dm.recipientId === uid;
      if (sub.eventType === 'dm.sent') return item.dm.senderId === uid;
      return false;
    }
    if (sub.eventType === 'chat.received') return item.chat.recipientId === uid;
    if (sub.eventType === 'chat.sent') return item.chat.senderId === uid;
    return false;
  }

  /** A post, DM or chat was created: generate and send the events of every matching subscription. */
  onCreated(item: CreatedItem): void {
    if (this.stopped || !XAA_TIERS.has(this.data.tier) || !this.data.subscriptions.length) return;
    const ref =
      item.kind === 'tweet'
        ? { kind: 'tweet' as const, id: item.tweet.id }
        : item.kind === 'dm'
          ? { kind: 'dm' as const, id: item.dm.id }
          : { kind: 'chat' as const, id: item.chat.id };
    // Parsed once per post, not per subscription (a deployment may hold thousands).
    const named = new Set<string>();
    if (item.kind === 'tweet') {
      for (const name of twitterText.extractMentions(item.tweet.text)) {
        const id = this.host.store.userByName(name)?.id;
        if (id) named.add(id);
      }
    }
    for (const sub of this.data.subscriptions) {
      if (!this.matches(sub, item, named)) continue;
      if (PRIVATE.test(sub.eventType) && !this.host.oauth.hasLiveGrant(sub.userId ?? '', sub.clientId))
        continue;
      this.generate(sub, ref);
    }
  }

  /** A user revoked apps at x.com: `oauth.revoke` to those apps' subscriptions (filter none or that user). */
  onRevoke(userId: string, clientIds: string[]): void {
    if (this.stopped || !XAA_TIERS.has(this.data.tier)) return;
    for (const sub of this.data.subscriptions) {
      if (sub.eventType !== 'oauth.revoke' || !clientIds.includes(sub.clientId)) continue;
      if (sub.userId !== null && sub.userId !== userId) continue;
      this.generate(sub, { kind: 'revoke', userId, at: this.host.now() });
    }
  }

  private generate(sub: SimSubscription, ref: SimXaaEvent['ref']): void {
    const hook = this.webhook(sub.webhookId);
    // Without a webhook X would deliver on the stream only (not simulated).
    if (!hook || hook.clientId !== sub.clientId) return;
    const now = this.host.now();
    const event: SimXaaEvent = {
      uuid: newEventUuid(),
      webhookId: hook.id,
      subscriptionId: sub.id,
      eventType: sub.eventType,
      at: now,
      ref,
    };
    const events = this.data.xaaEvents;
    events.push(event);
    let old = 0;
    while (
      old < events.length &&
      (events[old].at < now - EVENT_RETENTION_MS || events.length - old > MAX_EVENTS)
    )
      old++;
    if (old) events.splice(0, old);
    this.host.store.onChange();
    const record = this.record(event);
    if (!hook.valid) return;
    const settings = this.data.delivery;
    if (this.options.random() < settings.dropRate) {
      record.dropped = true;
      return;
    }
    this.later(settings.delayMs, () => this.send(event, 'live'));
    if (this.options.random() < settings.duplicateRate) {
      this.later(settings.delayMs + 50 + Math.floor(settings.delayMs / 2), () =>
        this.send(event, 'duplicate'),
      );
    }
  }

  private record(event: SimXaaEvent): DeliveryRecord {
    let record = this.records.get(event.uuid);
    if (!record) {
      record = {
        eventUuid: event.uuid,
        webhookId: event.webhookId,
        subscriptionId: event.subscriptionId,
        eventType: event.eventType,
        objectId: objectIdOf(event),
        createdAt: event.at,
        dropped: false,
        attempts: [],
      };
      this.records.set(event.uuid, record);
      if (this.records.size > MAX_RECORDS) this.records.delete(this.records.keys().next().value as string);
    }
    return record;
  }

  private later(ms: number, work: () => Promise<unknown>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) void this.track(work());
    }, ms);
    this.timers.add(timer);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inflight.add(work);
    void work.finally(() => this.inflight.delete(work)).catch(() => undefined);
    return work;
  }

  /** POSTs a signed body to a webhook; the HTTP status (0 = no answer). */
  private async post(hook: SimWebhook, body: string): Promise<number> {
    const secret = this.app(hook.clientId)?.apiKeySecret;
    if (!secret) return 0;
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-twitter-webhooks-signature': webhookSignature(secret, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.webhookTimeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      return res.status;
    } catch {
      return 0;
    }
  }

  /** Sends one event; true when the webhook answered 2xx. */
  private async send(event: SimXaaEvent, mode: DeliveryAttempt['mode']): Promise<boolean> {
    const hook = this.webhook(event.webhookId);
    if (!hook || (mode !== 'replay' && !hook.valid)) return false;
    const app = this.app(hook.clientId);
    const sub = this.data.subscriptions.find((s) => s.id === event.subscriptionId);
    const body = renderEvent(
      event,
      sub,
      { store: this.host.store, origin: this.host.origin(), viewerId: null },
      app?.appId ?? '0',
    );
    if (body === null) return false;
    const status = await this.post(hook, body);
    this.record(event).attempts.push({ at: this.host.now(), status, mode });
    const ok = status >= 200 && status < 300;
    if (ok && this.host.meter.chargeEvent(event.eventType, objectIdOf(event))) this.host.store.onChange();
    return ok;
  }

  /** Runs a CRC against a webhook and applies the outcome to its validity. */
  async crc(hook: SimWebhook): Promise<CrcOutcome> {
    const secret = this.app(hook.clientId)?.apiKeySecret ?? '';
    // X's crc_token: an opaque base64 string (X-API.md §9: the endpoint should check its shape).
    const token = Buffer.from(randomUUID()).toString('base64');
    const url = new URL(hook.url);
    url.searchParams.set('crc_token', token);
    let outcome: CrcOutcome;
    try {
      const res = await fetch(url, {
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.webhookTimeoutMs),
      });
      const text = await res.text().catch(() => '');
      if (res.status >= 300 && res.status < 400) outcome = 'invalid';
      else if (res.status >= 400) outcome = 'transient';
      else {
        let answer: unknown;
        try {
          answer = JSON.parse(text);
        } catch {
          answer = null;
        }
        const given = (answer as { response_token?: unknown } | null)?.response_token;
        outcome = secret && given === webhookSignature(secret, token) ? 'ok' : 'invalid';
      }
    } catch {
      outcome = 'transient';
    }
    const now = this.host.now();
    if (outcome === 'ok') {
      hook.valid = true;
      hook.lastCrcOkAt = now;
    } else if (outcome === 'invalid') {
      hook.valid = false;
    } else if (now - (hook.lastCrcOkAt ?? hook.createdAt) > TRANSIENT_GRACE_MS) {
      hook.valid = false;
    }
    this.host.store.onChange();
    return outcome;
  }

  /** The periodic check: every valid webhook (an invalid one waits for a `PUT /2/webhooks/:id`). */
  async periodicCrc(): Promise<{ id: string; outcome: CrcOutcome; valid: boolean }[]> {
    const hooks = this.data.webhooks.filter((w) => w.valid);
    const out = [];
    for (const hook of hooks) out.push({ id: hook.id, outcome: await this.crc(hook), valid: hook.valid });
    return out;
  }

  /** Starts a replay job, or null when one is already running for the webhook (ReplayConflictError). */
  startReplay(hook: SimWebhook, fromMs: number, toMs: number): { jobId: string; createdAt: number } | null {
    if (this.replaying.has(hook.id)) return null;
    const jobId = this.host.store.nextId();
    const createdAt = this.host.now();
    this.replaying.set(hook.id, jobId);
    const events = this.data.xaaEvents.filter(
      (e) => e.webhookId === hook.id && e.at >= fromMs && e.at < toMs,
    );
    const run = async () => {
      let failed = 0;
      for (const event of events) {
        if (this.stopped) return;
        await new Promise((r) => this.later(this.data.delivery.delayMs, async () => r(undefined)));
        if (!(await this.send(event, 'replay'))) failed++;
      }
      const complete = failed === 0;
      // The completion event (Account Activity replay's shape; XAA names it the same, X-API.md §9).
      const body = JSON.stringify({
        replay_job_status: {
          webhook_id: hook.id,
          job_state: complete ? 'Complete' : 'Incomplete',
          job_state_description: complete
            ? 'Job completed successfully'
            : 'Job failed to deliver all events, please retry your replay job',
          job_id: jobId,
        },
      });
      await this.post(hook, body);
    };
    void this.track(run().finally(() => this.replaying.delete(hook.id)));
    return { jobId, createdAt };
  }

  /** What happened to recent events, oldest first. */
  deliveries(webhookId?: string): DeliveryRecord[] {
    const all = [...this.records.values()];
    return webhookId ? all.filter((r) => r.webhookId === webhookId) : all;
  }

  /** Resolves once no delivery, CRC or replay is pending (tests; `POST /_sim/deliveries/drain`). */
  async idle(): Promise<void> {
    while (this.timers.size || this.inflight.size) {
      await Promise.allSettled([...this.inflight]);
      if (this.timers.size) await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Forgets pending work and records (the store's reset drops the events themselves). */
  reset(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    // Work waiting on a cleared timer never finishes: stop waiting for it.
    this.inflight.clear();
    this.records.clear();
    this.replaying.clear();
  }

  stop(): void {
    this.stopped = true;
    if (this.crcTimer) clearInterval(this.crcTimer);
    this.reset();
  }
}
