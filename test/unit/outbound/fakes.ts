/**
 * In-memory fakes of the outbound-only ports (budget, tokens, health, X). The clock, channel store,
 * channel builder and idempotency store are the shared ones in test/helpers/fakes/.
 */
import type { OutboundCommand } from '../../../contracts';
import { ChannelError } from '../../../core/errors';
import type {
  AppBudget,
  BudgetName,
  DeliveryQuery,
  EarlierDelivery,
  MediaUpload,
  SendHealthPatch,
  SendHealthStore,
  XRateObservation,
  XWriter,
} from '../../../core/outbound/ports';
import type { MediaHead, MediaRef, MediaSource } from '../../../core/outbound/media';
import { RecentBlocks } from '../../../core/outbound/rate-gate';
import { DEFAULT_SENDER_SETTINGS, type SenderDeps } from '../../../core/outbound/send';
import type { TokenProvider } from '../../../core/ports';
import { FakeChannelStore, FakeClock, FakeIdempotencyStore } from '../../helpers/fakes';

export { FakeClock, makeChannel } from '../../helpers/fakes';

export class FakeBudget implements AppBudget {
  used: Record<BudgetName, number> = { dm: 0, post: 0 };
  constructor(public limits: Record<BudgetName, number> = { dm: 10, post: 10 }) {}
  async take(name: BudgetName, now: Date) {
    const day = new Date(Math.floor(now.getTime() / 86_400_000) * 86_400_000);
    if (this.used[name] >= this.limits[name]) {
      return { ok: false as const, window: day.toISOString(), retryAt: new Date(day.getTime() + 86_400_000) };
    }
    this.used[name]++;
    return { ok: true as const, window: day.toISOString() };
  }
  async refund(name: BudgetName) {
    this.used[name] = Math.max(0, this.used[name] - 1);
  }
}

export class FakeTokens implements TokenProvider {
  calls: Array<{ forceRefresh?: boolean }> = [];
  fail: ChannelError | null = null;
  async getValidAccessToken(_channelId: string, options: { forceRefresh?: boolean } = {}) {
    this.calls.push(options);
    if (this.fail) throw this.fail;
    return options.forceRefresh ? 'token-refreshed' : 'token-1';
  }
}

/**
 * The channel health writes, applied to the channel in the `FakeChannelStore` the way the DynamoDB adapter does
 * (path by path, counters added, a later block kept).
 */
export class FakeHealth implements SendHealthStore {
  patches: SendHealthPatch[] = [];
  blocks: Array<{ endpoint: string; until: string }> = [];
  /** Makes every write throw (DynamoDB unreachable): health is best effort, the result must not depend on it. */
  down = false;
  constructor(private readonly channels: FakeChannelStore) {}
  async record(channelId: string, patch: SendHealthPatch) {
    if (this.down) throw new Error('simulated DynamoDB outage');
    this.patches.push(structuredClone(patch));
    const c = this.channels.items.get(channelId);
    if (!c) return;
    Object.assign(c.health.rateLimits, patch.rateLimits ?? {});
    if (patch.lastError) c.health.lastError = patch.lastError;
    c.health.counters.sent += patch.counters?.sent ?? 0;
    c.health.counters.failed += patch.counters?.failed ?? 0;
  }
  async block(channelId: string, endpoint: string, until: Date) {
    if (this.down) throw new Error('simulated DynamoDB outage');
    this.blocks.push({ endpoint, until: until.toISOString() });
    const c = this.channels.items.get(channelId);
    if (!c) return;
    const old = c.health.notBefore[endpoint];
    if (!old || old < until.toISOString()) c.health.notBefore[endpoint] = until.toISOString();
  }
}

/** Media objects by URL (`s3://media-bucket/outbound/…` or allow-listed https), with reads counted. */
export class FakeMediaSource implements MediaSource {
  objects = new Map<string, { contentType: string | null; data: Buffer }>();
  heads: string[] = [];
  reads: Array<{ url: string; start: number; end: number }> = [];
  put(url: string, contentType: string | null, data: Buffer) {
    this.objects.set(url, { contentType, data });
    return url;
  }
  async head(ref: MediaRef): Promise<MediaHead | null> {
    this.heads.push(ref.url);
    const o = this.objects.get(ref.url);
    return o ? { contentType: o.contentType, bytes: o.data.length } : null;
  }
  async read(ref: MediaRef, start: number, end: number): Promise<Buffer> {
    this.reads.push({ url: ref.url, start, end });
    return this.objects.get(ref.url)!.data.subarray(start, end);
  }
}

/** The policy the unit tests use: bucket `media-bucket`, prefix `outbound/`, one allow-listed origin. */
export const TEST_MEDIA_POLICY = {
  bucket: 'media-bucket',
  keyPrefix: 'outbound/',
  allowedOrigins: ['https://cdn.example.com'],
};

/** Scripted X: each write takes the next scripted answer (an error to throw, or success). */
export class FakeX {
  writes: Array<{ op: string; target?: string; text: string; token: string; media?: readonly string[] }> = [];
  /** Each upload: its declaration and the bytes read through it; `uploadScript` answers like `script`. */
  uploads: Array<{
    mediaType: string;
    category: string;
    totalBytes: number;
    bytes: Buffer;
    mediaId: string;
  }> = [];
  uploadScript: Array<ChannelError | Error | 'ok'> = [];
  script: Array<ChannelError | Error | 'ok'> = [];
  lookups: DeliveryQuery[] = [];
  lookupAnswer: EarlierDelivery | ChannelError = { status: 'not_found' };
  /** Rate-limit headers every write answers with (as twitter-api-v2's hook reports them). */
  headers: Omit<XRateObservation, 'endpoint'> | null = null;
  private next = 1;
  writerFor = (token: string, onRateLimit?: (o: XRateObservation) => void): XWriter => {
    const write = async (op: string, text: string, target?: string, media?: readonly string[]) => {
      this.writes.push({ op, target, text, token, ...(media?.length ? { media: [...media] } : {}) });
      const endpoint =
        op === 'dm'
          ? target?.includes('-')
            ? 'POST /2/dm_conversations/:dm_conversation_id/messages'
            : 'POST /2/dm_conversations/with/:participant_id/messages'
          : 'POST /2/tweets';
      if (this.headers) onRateLimit?.({ endpoint, ...this.headers });
      const step = this.script.shift() ?? 'ok';
      if (step !== 'ok') throw step;
      return { xId: String(9000 + this.next++) };
    };
    return {
      reply: (text, target, media) => write('reply', text, target, media),
      post: (text, media) => write('post', text, undefined, media),
      sendDm: (target, text, mediaId) => write('dm', text, target, mediaId ? [mediaId] : undefined),
      uploadMedia: async (u: MediaUpload) => {
        const step = this.uploadScript.shift() ?? 'ok';
        if (step !== 'ok') throw step;
        const parts: Buffer[] = [];
        for (let start = 0; start < u.totalBytes; start += 4) {
          parts.push(await u.read(start, Math.min(u.totalBytes, start + 4)));
        }
        const mediaId = String(7000 + this.uploads.length);
        const { mediaType, category, totalBytes } = u;
        this.uploads.push({ mediaType, category, totalBytes, bytes: Buffer.concat(parts), mediaId });
        return { mediaId };
      },
      findEarlierDelivery: async (q) => {
        this.lookups.push(q);
        if (this.lookupAnswer instanceof ChannelError) throw this.lookupAnswer;
        return this.lookupAnswer;
      },
    };
  };
}

export function makeDeps(overrides: { clock?: FakeClock } = {}) {
  const clock = overrides.clock ?? new FakeClock();
  const channels = new FakeChannelStore(clock);
  const idempotency = new FakeIdempotencyStore();
  const budget = new FakeBudget();
  const tokens = new FakeTokens();
  const x = new FakeX();
  const health = new FakeHealth(channels);
  const media = new FakeMediaSource();
  const events: string[] = [];
  let n = 0;
  const deps: SenderDeps = {
    clock,
    channels,
    idempotency,
    budget,
    tokens,
    writerFor: x.writerFor,
    health,
    recentBlocks: new RecentBlocks(),
    media: { policy: TEST_MEDIA_POLICY, source: media },
    newAttemptId: () => `attempt-${++n}`,
    settings: { ...DEFAULT_SENDER_SETTINGS },
    onEvent: (e) => events.push(e),
  };
  return { deps, clock, channels, idempotency, budget, tokens, x, health, events, media };
}

export const reply = (overrides: Partial<OutboundCommand> = {}): OutboundCommand =>
  ({
    schema: 'x-channel.outbound.v1',
    idempotencyKey: 'case-1-reply-1',
    channelId: 'ch1',
    kind: 'reply',
    targetId: '5001',
    text: 'Thanks, we are looking into it.',
    ...overrides,
  }) as OutboundCommand;
