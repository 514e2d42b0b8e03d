/** In-memory fakes of the outbound ports, with the same conditional semantics as the DynamoDB adapters. */
import type { OutboundCommand, ResultMessage } from '../../../contracts';
import { DEFAULT_OPTIONS, emptyHealth, type Channel } from '../../../core/channel';
import { ChannelError } from '../../../core/errors';
import type {
  AppBudget,
  BudgetName,
  DeliveryQuery,
  EarlierDelivery,
  IdempotencyClaim,
  IdempotencyRecord,
  IdempotencyStore,
  IdempotencyWrite,
  SendHealthPatch,
  SendHealthStore,
  XRateObservation,
  XWriter,
} from '../../../core/outbound/ports';
import { RecentBlocks } from '../../../core/outbound/rate-gate';
import { DEFAULT_SENDER_SETTINGS, type SenderDeps } from '../../../core/outbound/send';
import type { ChannelChange, ChannelStore, Clock, TokenProvider } from '../../../core/ports';

export class FakeClock implements Clock {
  constructor(public t = new Date('2026-09-01T10:00:00Z')) {}
  now() {
    return new Date(this.t);
  }
  advance(seconds: number) {
    this.t = new Date(this.t.getTime() + seconds * 1000);
  }
}

export function channel(overrides: Partial<Channel> = {}): Channel {
  return {
    id: 'ch1',
    name: null,
    status: 'active',
    statusReason: null,
    account: { id: '1000', username: 'acme', name: 'Acme', avatarUrl: null },
    listenMentions: true,
    listenDms: true,
    autoFollow: false,
    scopes: [],
    options: { ...DEFAULT_OPTIONS },
    createdAt: '2026-09-01T00:00:00Z',
    updatedAt: '2026-09-01T00:00:00Z',
    connectedAt: '2026-09-01T00:00:00Z',
    checkpoints: { mentionsSinceId: null, dmEventId: null, dmCreatedAt: null },
    health: emptyHealth(),
    version: 1,
    ...overrides,
  };
}

export class FakeChannels implements ChannelStore {
  map = new Map<string, Channel>();
  updates: ChannelChange[] = [];
  async create(c: Channel) {
    this.map.set(c.id, c);
  }
  async get(id: string) {
    return this.map.get(id) ?? null;
  }
  async list() {
    return { items: [...this.map.values()] };
  }
  async update(id: string, expectedVersion: number, change: ChannelChange) {
    const c = this.map.get(id);
    if (!c) throw new ChannelError('permanent', 'no channel', { code: 'channel_not_found' });
    if (c.version !== expectedVersion) throw new ChannelError('retryable', 'conflict', { code: 'conflict' });
    const next = { ...c, ...(change as Partial<Channel>), version: c.version + 1 };
    this.map.set(id, next);
    this.updates.push(change);
    return next;
  }
  async delete(id: string) {
    this.map.delete(id);
  }
  async claimAccount() {}
  async releaseAccount() {}
}

export class FakeIdempotency implements IdempotencyStore {
  records = new Map<string, IdempotencyRecord>();
  /** Makes the next `complete` throw (the completion could not be stored). */
  crashOnComplete = false;
  /** Makes every write throw until cleared (DynamoDB unreachable: the attempt dies holding its lease). */
  down = false;
  private k = (c: string, key: string) => `${c}|${key}`;
  /** The answer of a refused write: the record as it was (DynamoDB's ALL_OLD). */
  private refused(c: string, key: string): IdempotencyWrite {
    const cur = this.records.get(this.k(c, key));
    return { ok: false, current: cur ? structuredClone(cur) : null };
  }
  private heldBy(c: string, key: string, owner: string) {
    const cur = this.records.get(this.k(c, key));
    return cur && cur.owner === owner && cur.state === 'in_progress' ? cur : null;
  }
  async get(c: string, key: string) {
    const r = this.records.get(this.k(c, key));
    return r ? structuredClone(r) : null;
  }
  async claim(c: string, key: string, claim: IdempotencyClaim, expected: string | null) {
    const cur = this.records.get(this.k(c, key));
    if (expected === null ? cur : !this.heldBy(c, key, expected)) return this.refused(c, key);
    this.records.set(this.k(c, key), { channelId: c, key, state: 'in_progress', ...claim });
    return { ok: true as const };
  }
  async complete(c: string, key: string, owner: string, result: ResultMessage) {
    if (this.down) throw new Error('simulated crash');
    if (this.crashOnComplete) {
      this.crashOnComplete = false;
      throw new Error('simulated completion failure');
    }
    const cur = this.heldBy(c, key, owner);
    if (!cur) return this.refused(c, key);
    this.records.set(this.k(c, key), { ...cur, state: 'completed', result });
    return { ok: true as const };
  }
  async release(c: string, key: string, owner: string) {
    if (this.down) throw new Error('simulated crash');
    if (!this.heldBy(c, key, owner)) return this.refused(c, key);
    this.records.delete(this.k(c, key));
    return { ok: true as const };
  }
  async markUncertain(c: string, key: string, owner: string, now: Date) {
    if (this.down) throw new Error('simulated crash');
    const cur = this.heldBy(c, key, owner);
    if (!cur) return this.refused(c, key);
    this.records.set(this.k(c, key), { ...cur, uncertain: true, leaseExpiresAt: now.toISOString() });
    return { ok: true as const };
  }
}

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
 * The channel health writes, applied to the channel in `FakeChannels` the way the DynamoDB adapter does
 * (path by path, counters added, a later block kept).
 */
export class FakeHealth implements SendHealthStore {
  patches: SendHealthPatch[] = [];
  blocks: Array<{ endpoint: string; until: string }> = [];
  /** Makes every write throw (DynamoDB unreachable): health is best effort, the result must not depend on it. */
  down = false;
  constructor(private readonly channels: FakeChannels) {}
  async record(channelId: string, patch: SendHealthPatch) {
    if (this.down) throw new Error('simulated DynamoDB outage');
    this.patches.push(structuredClone(patch));
    const c = this.channels.map.get(channelId);
    if (!c) return;
    Object.assign(c.health.rateLimits, patch.rateLimits ?? {});
    if (patch.lastError) c.health.lastError = patch.lastError;
    c.health.counters.sent += patch.counters?.sent ?? 0;
    c.health.counters.failed += patch.counters?.failed ?? 0;
  }
  async block(channelId: string, endpoint: string, until: Date) {
    if (this.down) throw new Error('simulated DynamoDB outage');
    this.blocks.push({ endpoint, until: until.toISOString() });
    const c = this.channels.map.get(channelId);
    if (!c) return;
    const old = c.health.notBefore[endpoint];
    if (!old || old < until.toISOString()) c.health.notBefore[endpoint] = until.toISOString();
  }
}

/** Scripted X: each write takes the next scripted answer (an error to throw, or success). */
export class FakeX {
  writes: Array<{ op: string; target?: string; text: string; token: string }> = [];
  script: Array<ChannelError | Error | 'ok'> = [];
  lookups: DeliveryQuery[] = [];
  lookupAnswer: EarlierDelivery | ChannelError = { status: 'not_found' };
  /** Rate-limit headers every write answers with (as twitter-api-v2's hook reports them). */
  headers: Omit<XRateObservation, 'endpoint'> | null = null;
  private next = 1;
  writerFor = (token: string, onRateLimit?: (o: XRateObservation) => void): XWriter => {
    const write = async (op: string, text: string, target?: string) => {
      this.writes.push({ op, target, text, token });
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
      reply: (text, target) => write('reply', text, target),
      post: (text) => write('post', text),
      sendDm: (target, text) => write('dm', text, target),
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
  const channels = new FakeChannels();
  const idempotency = new FakeIdempotency();
  const budget = new FakeBudget();
  const tokens = new FakeTokens();
  const x = new FakeX();
  const health = new FakeHealth(channels);
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
    newAttemptId: () => `attempt-${++n}`,
    settings: { ...DEFAULT_SENDER_SETTINGS },
    onEvent: (e) => events.push(e),
  };
  return { deps, clock, channels, idempotency, budget, tokens, x, health, events };
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
