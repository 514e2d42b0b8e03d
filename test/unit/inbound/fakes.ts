/**
 * In-memory fakes of the inbound ports (edges only), for unit and property tests. The clock, channel
 * store and channel builder are the shared ones in test/helpers/fakes/.
 */
import type { InboundMessage } from '../../../contracts';
import { isPollable, type Channel, type ChannelCheckpoints } from '../../../core/channel';
import { ChannelError, permanent, retryable } from '../../../core/errors';
import { compareXIds } from '../../../core/inbound/mapping';
import type {
  DueIndex,
  FollowStore,
  HealthPatch,
  InboundPublisher,
  PollFinish,
  PollJob,
  PollJobQueue,
  PollStateStore,
  RateObservation,
  XDmEventData,
  XReader,
  XTweetData,
  XUserData,
} from '../../../core/inbound/types';
import type { Clock, TokenProvider } from '../../../core/ports';
import { FakeChannelStore, makeChannel as sharedMakeChannel, TEST_ACCOUNT } from '../../helpers/fakes';

export { FakeClock } from '../../helpers/fakes';

export const ACCOUNT = TEST_ACCOUNT;

/** Where the inbound tests start their clock; their channels were signed in an hour before. */
export const INBOUND_T0 = '2026-01-01T01:00:00.000Z';
const SIGNED_IN_AT = '2026-01-01T00:00:00.000Z';

/** The shared channel builder, signed in at {@link SIGNED_IN_AT} (the first poll reads from there). */
export const makeChannel = (over: Partial<Channel> = {}): Channel =>
  sharedMakeChannel({ createdAt: SIGNED_IN_AT, updatedAt: SIGNED_IN_AT, connectedAt: SIGNED_IN_AT, ...over });

/**
 * Poll state on one channel of the shared `FakeChannelStore`, with the same conditions as the DynamoDB
 * adapter (adapters/aws/dynamo-poll-state.ts).
 */
export class FakeChannelState extends FakeChannelStore implements PollStateStore {
  private readonly channelId: string;
  /** `gsi1sk`: the due time, or the claim's expiry while a poll holds it. */
  dueAt: string | null;
  /** `pollOwner`: the job holding the claim. */
  owner: string | null = null;
  checkpointWrites = 0;
  finishWrites = 0;
  constructor(channel: Channel, clock: Clock) {
    super(clock);
    this.channelId = channel.id;
    this.items.set(channel.id, structuredClone(channel));
    this.dueAt = new Date(clock.now().getTime() - 1000).toISOString();
  }
  /** The stored channel itself (not a copy): tests read and seed it directly. */
  get channel(): Channel {
    return this.items.get(this.channelId)!;
  }
  set channel(c: Channel) {
    this.items.set(this.channelId, c);
  }
  private get inDueIndex() {
    return isPollable(this.channel) && this.dueAt !== null;
  }

  async peekDue(id: string) {
    if (id !== this.channel.id) return null;
    return { dueAt: this.inDueIndex ? this.dueAt : null, owner: this.owner };
  }
  async claimPoll(id: string, c: { owner: string; seenDueAt: string; leaseUntil: string }) {
    if (id !== this.channel.id) return { refused: 'channel_not_found' as const };
    if (!this.inDueIndex) return { refused: 'not_pollable' as const };
    if (this.dueAt !== c.seenDueAt && this.owner !== c.owner) {
      const held = this.owner !== null && this.dueAt! > this.clock.now().toISOString();
      return { refused: held ? ('lease_held' as const) : ('not_due' as const) };
    }
    this.dueAt = c.leaseUntil;
    this.owner = c.owner;
    return { channel: structuredClone(this.channel), dueAt: c.seenDueAt };
  }
  async finishPoll(_id: string, f: PollFinish) {
    const norm = (c: ChannelCheckpoints) =>
      JSON.stringify({
        mentionsSinceId: c.mentionsSinceId ?? null,
        dmEventId: c.dmEventId ?? null,
        dmCreatedAt: c.dmCreatedAt ?? null,
        mentionsBacklog: c.mentionsBacklog ?? null,
        dmBacklog: c.dmBacklog ?? null,
      });
    if (f.next) {
      if (norm(f.expected) !== norm(this.channel.checkpoints))
        throw retryable('conflict', 'checkpoints moved');
      this.channel.checkpoints = structuredClone(f.next);
      this.checkpointWrites++;
    }
    this.applyHealth(f.health);
    if (this.owner === f.owner) {
      this.owner = null;
      if (this.inDueIndex) this.dueAt = f.nextPollAt;
    }
    this.finishWrites++;
  }
  async releasePoll(_id: string, owner: string, dueAt: string) {
    if (this.owner !== owner) return;
    this.owner = null;
    this.dueAt = dueAt;
  }
  blockWrites = 0;
  async blockEndpoint(_id: string, endpoint: string, until: string) {
    const held = this.channel.health.notBefore[endpoint];
    if (!held || held < until) this.channel.health.notBefore[endpoint] = until;
    this.blockWrites++;
  }
  /** Merges a health patch like the adapter: maps per key, counters by increment. */
  applyHealth(patch: HealthPatch) {
    const h = this.channel.health;
    const { counters, rateLimits, notBefore, ...rest } = patch;
    for (const [k, v] of Object.entries(rest))
      if (v !== undefined) (h as unknown as Record<string, unknown>)[k] = v;
    Object.assign(h.rateLimits, rateLimits ?? {});
    Object.assign(h.notBefore, notBefore ?? {});
    for (const [k, v] of Object.entries(counters ?? {})) {
      (h.counters as Record<string, number>)[k] = ((h.counters as Record<string, number>)[k] ?? 0) + (v ?? 0);
    }
  }
}

/** The inbound FIFO as the case system sees it: dedup by (channelId, id) within the window (here: forever). */
export class FakeInbound implements InboundPublisher {
  received: InboundMessage[] = [];
  sends = 0;
  private seen = new Set<string>();
  /** Throw on the publish call with this index (0-based), before sending. */
  failOnCall: number | null = null;
  private calls = 0;
  /** Publish calls made so far. */
  get publishCalls() {
    return this.calls;
  }
  async publish(messages: InboundMessage[]) {
    if (this.failOnCall === this.calls++) throw retryable('inbound_unavailable', 'injected');
    for (const m of messages) {
      this.sends++;
      const key = `${m.channelId}:${m.id}`; // the queue's dedup id
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      this.received.push(m);
    }
  }
}

export interface FakeXOptions {
  users?: XUserData[];
  tweets?: XTweetData[];
  dms?: XDmEventData[];
  /** Throw this for the Nth call (0-based) of an endpoint. */
  faults?: Array<{ endpoint: 'mentions' | 'dms' | 'follow'; call: number; error: ChannelError }>;
  rate?: (endpoint: string) => RateObservation | undefined;
}

/** X's newest-first paging over in-memory posts and DM events (since_id, until_id, start_time, next_token). */
export class FakeX {
  calls = { mentions: 0, dms: 0, follow: 0 };
  followed: string[] = [];
  constructor(public opts: FakeXOptions) {}
  reader = (_token: string, onRate: (o: RateObservation) => void): XReader => {
    const fault = (endpoint: 'mentions' | 'dms' | 'follow') => {
      const n = this.calls[endpoint]++;
      const f = this.opts.faults?.find((x) => x.endpoint === endpoint && x.call === n);
      if (f) throw f.error;
    };
    const includes = { users: this.opts.users ?? [], media: [] };
    return {
      mentions: async (q) => {
        fault('mentions');
        const obs = this.opts.rate?.('GET /2/users/:id/mentions');
        if (obs) onRate(obs);
        const list = (this.opts.tweets ?? [])
          .filter((t) => !q.sinceId || compareXIds(t.id, q.sinceId) > 0)
          .filter((t) => !q.untilId || compareXIds(t.id, q.untilId) < 0)
          .filter((t) => q.sinceId || !q.startTime || Date.parse(t.created_at!) >= Date.parse(q.startTime))
          .sort((a, b) => compareXIds(b.id, a.id));
        const offset = q.paginationToken ? Number(q.paginationToken) : 0;
        const page = list.slice(offset, offset + q.maxResults);
        const more = offset + q.maxResults < list.length;
        return {
          data: page,
          includes,
          meta: {
            newest_id: page[0]?.id,
            oldest_id: page.at(-1)?.id,
            next_token: more ? String(offset + q.maxResults) : undefined,
            result_count: page.length,
          },
        };
      },
      dmEvents: async (q) => {
        fault('dms');
        const all = [...(this.opts.dms ?? [])].sort((a, b) => compareXIds(b.id, a.id));
        const offset = q.paginationToken ? Number(q.paginationToken) : 0;
        const page = all.slice(offset, offset + q.maxResults);
        const more = offset + q.maxResults < all.length;
        return {
          data: page,
          includes,
          meta: { next_token: more ? String(offset + q.maxResults) : undefined },
        };
      },
      follow: async (_a, target) => {
        fault('follow');
        this.followed.push(target);
      },
    };
  };
}

export const staticTokens: TokenProvider = { getValidAccessToken: async () => 'token-for-tests-000' };

export class FakeFollows implements FollowStore {
  records = new Map<string, { state: 'queued' | 'followed' | 'skipped'; at: string }>();
  days = new Map<string, number>();
  async get(_c: string, u: string) {
    const r = this.records.get(u);
    return r ? { userId: u, ...r } : null;
  }
  async enqueue(_c: string, u: string, at: string) {
    if (this.records.has(u)) return false;
    this.records.set(u, { state: 'queued', at });
    return true;
  }
  async listQueued(_c: string, limit: number) {
    return [...this.records]
      .filter(([, r]) => r.state === 'queued')
      .slice(0, limit)
      .map(([u]) => u);
  }
  async takeDailySlot(_c: string, day: string, cap: number) {
    const n = this.days.get(day) ?? 0;
    if (n >= cap) return false;
    this.days.set(day, n + 1);
    return true;
  }
  async markDone(_c: string, u: string, state: 'followed' | 'skipped', at: string) {
    this.records.set(u, { state, at });
  }
}

export class FakeDue implements DueIndex, PollJobQueue {
  due = new Map<string, string>();
  jobs: PollJob[] = [];
  failSend = new Set<string>();
  queries = 0;
  async listDue(now: string, cursor?: string) {
    this.queries++;
    // like DynamoDB's LastEvaluatedKey: a position in key order, not an offset
    const all = [...this.due].filter(([id, at]) => at <= now && (!cursor || id > cursor)).sort();
    const items = all.slice(0, 100).map(([channelId, dueAt]) => ({ channelId, dueAt }));
    return { items, nextCursor: all.length > 100 ? items.at(-1)!.channelId : undefined };
  }
  async send(jobs: PollJob[]) {
    const failed = jobs.filter((j) => this.failSend.has(j.channelId)).map((j) => j.channelId);
    this.jobs.push(...jobs.filter((j) => !this.failSend.has(j.channelId)));
    return { failed };
  }
}

export const tweet = (id: number, author = '2000', over: Partial<XTweetData> = {}): XTweetData => ({
  id: String(id),
  text: `hello @acme ${id}`,
  author_id: author,
  created_at: new Date(Date.parse('2026-01-01T00:30:00.000Z') + id * 1000).toISOString(),
  conversation_id: String(id),
  ...over,
});

export const dm = (id: number, sender = '2000', over: Partial<XDmEventData> = {}): XDmEventData => ({
  id: String(id),
  event_type: 'MessageCreate',
  text: `dm ${id}`,
  sender_id: sender,
  dm_conversation_id: sender < ACCOUNT.id ? `${sender}-${ACCOUNT.id}` : `${ACCOUNT.id}-${sender}`,
  created_at: new Date(Date.parse('2026-01-01T00:30:00.000Z') + id * 1000).toISOString(),
  ...over,
});

export const forbidden = () =>
  permanent('access_level', 'the X API plan of this app does not include this endpoint');
