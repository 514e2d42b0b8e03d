/**
 * The one in-memory `ChannelStore`, with the DynamoDB adapter's conditions and answers
 * (adapters/aws/dynamo-channel-store.ts); test/contract/channel-store.test.ts runs the same suite
 * against both, so the two cannot drift.
 */
import type { Channel } from '../../../core/channel';
import { invalidInput, permanent, retryable } from '../../../core/errors';
import type { ChannelChange, ChannelStore, Clock, Page } from '../../../core/ports';

const listKey = (c: Channel) => `${c.createdAt}#${c.id}`;

export class FakeChannelStore implements ChannelStore {
  /** The stored channels by id (tests may seed or inspect them directly). */
  readonly items = new Map<string, Channel>();
  /** X account id → the channel holding it. */
  readonly claims = new Map<string, string>();
  /** Every change applied by `update`, in order. */
  readonly updates: ChannelChange[] = [];

  constructor(protected readonly clock: Clock) {}

  async create(channel: Channel): Promise<void> {
    if (this.items.has(channel.id)) throw permanent('conflict', `channel ${channel.id} already exists`);
    this.items.set(channel.id, structuredClone(channel));
  }

  async get(id: string): Promise<Channel | null> {
    const c = this.items.get(id);
    return c ? structuredClone(c) : null;
  }

  /** Newest first (`createdAt`, then id), like the adapter's list index; the cursor is the last key given. */
  async list({ limit, cursor }: { limit: number; cursor?: string }): Promise<Page<Channel>> {
    let after: string | undefined;
    if (cursor !== undefined) {
      try {
        after = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')).after;
      } catch {
        after = undefined;
      }
      if (typeof after !== 'string') throw invalidInput('cursor', 'not a cursor returned by this API');
    }
    const all = [...this.items.values()]
      .sort((a, b) => (listKey(a) < listKey(b) ? 1 : -1))
      .filter((c) => after === undefined || listKey(c) < after);
    const page = all.slice(0, limit);
    // like DynamoDB's LastEvaluatedKey: present whenever the page is full
    const nextCursor =
      page.length === limit && page.length > 0
        ? Buffer.from(JSON.stringify({ after: listKey(page.at(-1)!) })).toString('base64url')
        : undefined;
    return { items: page.map((c) => structuredClone(c)), nextCursor };
  }

  async update(id: string, expectedVersion: number, change: ChannelChange): Promise<Channel> {
    const c = this.items.get(id);
    if (!c) throw permanent('channel_not_found', `channel ${id} does not exist`);
    if (c.version !== expectedVersion)
      throw retryable('conflict', `channel ${id} changed meanwhile (version ${expectedVersion} is stale)`);
    const { disabled, ...fields } = change;
    const next = structuredClone(c) as unknown as Record<string, unknown> & Channel;
    for (const [field, value] of Object.entries(fields)) if (value !== undefined) next[field] = value;
    // path by path; a cleared reason (null) is removed, as the adapter's `REMOVE health.disabled.<f>`
    const reasons = next.health.disabled as Record<string, string | undefined>;
    for (const [feature, reason] of Object.entries(disabled ?? {})) {
      if (reason === null) delete reasons[feature];
      else if (reason !== undefined) reasons[feature] = reason;
    }
    next.version = c.version + 1;
    next.updatedAt = this.clock.now().toISOString();
    this.items.set(id, next);
    this.updates.push(structuredClone(change));
    return structuredClone(next);
  }

  async delete(id: string): Promise<void> {
    this.items.delete(id);
  }

  async claimAccount(xUserId: string, channelId: string): Promise<void> {
    const holder = this.claims.get(xUserId);
    if (holder && holder !== channelId)
      throw permanent('account_in_use', `this X account is already connected to channel ${holder}`);
    this.claims.set(xUserId, channelId);
  }

  async releaseAccount(xUserId: string, channelId: string): Promise<void> {
    if (this.claims.get(xUserId) === channelId) this.claims.delete(xUserId);
  }
}
