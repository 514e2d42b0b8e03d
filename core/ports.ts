/**
 * Ports: the interfaces core depends on. Adapters (adapters/aws, adapters/x) implement them; core
 * never imports an SDK. Factories take one options object and return a port (STYLE.md §4).
 */
import type { Channel, ChannelOptions, ChannelStatus, ChannelSwitches, XAccount } from './channel';

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next page; absent on the last page. */
  nextCursor?: string;
}

/** Fields an admin or the sign-in flow may change on a channel (each change bumps `version`). */
export interface ChannelChange extends Partial<ChannelSwitches> {
  name?: string | null;
  status?: ChannelStatus;
  statusReason?: string | null;
  account?: XAccount | null;
  scopes?: string[];
  options?: ChannelOptions;
  connectedAt?: string | null;
  /** Disabled-feature reasons to set (string) or clear (null), e.g. `{ autoFollow: null }` when the admin turns it on again. */
  disabled?: Partial<Record<'mentions' | 'dms' | 'autoFollow', string | null>>;
}

/**
 * Channel records. Every write is conditional: `create` on absence, `update` on `expectedVersion`.
 * A lost race throws `ChannelError` kind `retryable` code `conflict`; a missing channel, code `channel_not_found`.
 */
export interface ChannelStore {
  create(channel: Channel): Promise<void>;
  get(id: string): Promise<Channel | null>;
  list(options: { limit: number; cursor?: string }): Promise<Page<Channel>>;
  update(id: string, expectedVersion: number, change: ChannelChange): Promise<Channel>;
  /** Deletes the channel record and every item under its partition (leases, idempotency, follows). */
  delete(id: string): Promise<void>;
  /**
   * Binds an X account to a channel so that two channels never poll one account. Idempotent for the
   * same channel; throws `permanent` code `account_in_use` (with the holder's id in the message) otherwise.
   */
  claimAccount(xUserId: string, channelId: string): Promise<void>;
  releaseAccount(xUserId: string, channelId: string): Promise<void>;
}

/** Gives a user-context access token valid for at least `minValiditySeconds` (refreshing under a lease). */
export interface TokenProvider {
  getValidAccessToken(
    channelId: string,
    options?: { minValiditySeconds?: number; forceRefresh?: boolean },
  ): Promise<string>;
}
