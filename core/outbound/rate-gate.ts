/**
 * DESIGN.md "never call again after a 429 before the reset", per channel and per X endpoint: the sender
 * reads the channel's `health.notBefore` (set after a 429) and `health.rateLimits` (the last
 * `x-rate-limit-*` headers) before every X call, and waits instead of calling while either says the
 * window is closed.
 */
import type { ChannelHealth, RateWindow } from '../channel';
import { sharedWindowOf } from './endpoints';

/** Why an endpoint is closed: X answered 429, or its last headers said `remaining: 0`. */
export type BlockReason = 'rate_limited' | 'window_spent';

export interface EndpointBlock {
  endpoint: string;
  until: Date;
  reason: BlockReason;
}

/**
 * Where X's 429 reset is not after our clock, X and we disagree about the time (X said "not now"); the
 * true reset is unknown, so we wait one standard window (X's rate windows are 15 minutes, X-API.md §3).
 */
export function untilAfter429(reset: Date | undefined, now: Date, fallbackSeconds: number): Date {
  if (reset && reset.getTime() > now.getTime()) return reset;
  return new Date(now.getTime() + fallbackSeconds * 1000);
}

/** A rate window from the headers of one response. */
export function windowOf(o: { limit: number; remaining: number; reset: number }): RateWindow {
  return { limit: o.limit, remaining: o.remaining, resetAt: new Date(o.reset * 1000).toISOString() };
}

/**
 * The latest time any endpoint sharing `endpoint`'s window is closed until, or null when it is open.
 * `extraNotBefore` are blocks this process learned itself (see {@link RecentBlocks}).
 */
export function blockedUntil(
  health: Partial<Pick<ChannelHealth, 'rateLimits' | 'notBefore'>> | undefined,
  endpoint: string,
  now: Date,
  extraNotBefore: Readonly<Record<string, string>> = {},
): EndpointBlock | null {
  let block: EndpointBlock | null = null;
  const consider = (ep: string, iso: string | undefined, reason: BlockReason) => {
    const t = iso ? Date.parse(iso) : NaN;
    if (!Number.isFinite(t) || t <= now.getTime()) return;
    if (!block || t > block.until.getTime()) block = { endpoint: ep, until: new Date(t), reason };
  };
  for (const ep of sharedWindowOf(endpoint)) {
    consider(ep, health?.notBefore?.[ep], 'rate_limited');
    consider(ep, extraNotBefore[ep], 'rate_limited');
    const w = health?.rateLimits?.[ep];
    // `remaining: 0` with a reset ahead: the next call would be the 429 we are told to avoid
    if (w && w.remaining <= 0) consider(ep, w.resetAt, 'window_spent');
  }
  return block;
}

/**
 * Blocks this process wrote, kept in memory as well: the channel item is shared with the poller, whose
 * health write replaces the whole `notBefore` map it read at the start of its poll, so a block stored
 * meanwhile can be lost there. Bounded; expired entries are dropped as they are read.
 */
export class RecentBlocks {
  private readonly byChannel = new Map<string, Record<string, string>>();

  constructor(private readonly maxChannels = 10_000) {}

  remember(channelId: string, endpoint: string, until: Date): void {
    const blocks = this.byChannel.get(channelId) ?? {};
    const old = blocks[endpoint] ? Date.parse(blocks[endpoint]) : 0;
    if (until.getTime() > old) blocks[endpoint] = until.toISOString();
    // re-insert: the Map's order is then least recently blocked first, which is what gets evicted
    this.byChannel.delete(channelId);
    this.byChannel.set(channelId, blocks);
    if (this.byChannel.size > this.maxChannels) {
      const oldest = this.byChannel.keys().next().value;
      if (oldest !== undefined) this.byChannel.delete(oldest);
    }
  }

  /** The still-running blocks of a channel, keyed by endpoint. */
  of(channelId: string, now: Date): Record<string, string> {
    const blocks = this.byChannel.get(channelId);
    if (!blocks) return {};
    for (const [ep, iso] of Object.entries(blocks)) if (Date.parse(iso) <= now.getTime()) delete blocks[ep];
    if (!Object.keys(blocks).length) this.byChannel.delete(channelId);
    return { ...blocks };
  }
}
