/**
 * What the webhook does with a verified delivery: parse it, route each event to the channel(s) of its
 * account, map it to inbound messages and publish them through the delivered ledger — and only then
 * may the caller answer 200 (DESIGN.md "Rules": a webhook event is acknowledged to X only after it is
 * durably queued).
 * ```
 * verified body ─> parse ─> per event: account ─> channel(s) ─> messages ─┐
 *                                        oauth.revoke ─> needs_reauth     ├─> ONE ledger publish ─> 200
 * ```
 * - any read or the publish fails: `deliverEvents` throws, the caller answers 5xx, nothing was
 *   recorded in the ledger; X's redelivery, replay or the reconciliation poll brings the items again;
 * - crash after the publish and before the 200: the items are queued and recorded; X's redelivery
 *   finds them in the ledger and publishes nothing;
 * - crash between the publish and the ledger's record: the items are held as pending, and the sweep
 *   (the watch schedule, core/inbound/delivered.ts) re-publishes them inside SQS's dedup window and
 *   records them, so a replay or poll hours later finds them delivered;
 * - an unknown event type, a payload that does not parse, an account no channel holds: acknowledged
 *   and counted (a 4xx would only make X retry what can never succeed).
 */
import { describeIssues, type InboundMessage, type ParseResult } from '../../contracts';
import type { Channel } from '../channel';
import type { LedgerPublisher } from '../inbound/delivered';
import type { ChannelStore, Clock } from '../ports';
import { markNeedsReauth } from '../tokens';
import { xaaBatchBodySchema, xaaBodySchema, type XaaEvent } from './events';
import { classifyEvent, mapForChannel, type SkipReason } from './mapping';

/**
 * Which channels hold an X account (at most one today: `ChannelStore.claimAccount` binds an account to
 * one channel).
 *
 * @example
 * const ids = await accounts.channelIdsFor('1500000000000000001'); // ['ch_7k2m…'] or []
 */
export interface AccountDirectory {
  channelIdsFor(xUserId: string): Promise<string[]>;
}

/**
 * Asks for a prompt DM poll of a channel (adapters/aws/dynamo-dm-poll-request.ts): a DM with media is
 * left to the poller, which holds the channel's token to download the media into the media bucket
 * (core/inbound/dm-media.ts). The webhook holds no user token, and downloading inline would hold X's
 * 200 back by the size of the media.
 */
export interface DmPollRequest {
  /**
   * `heldFrom`: the oldest such DM's created time, kept as the channel's `dmHold` (the earliest one
   * wins) so that the DM poll reads down to it whatever the real-time proof says (./proof.ts).
   */
  requestDmPoll(channelId: string, heldFrom?: string): Promise<void>;
}

export interface WebhookDeps {
  accounts: AccountDirectory;
  channels: ChannelStore;
  publisher: LedgerPublisher;
  clock: Clock;
  /** Absent: a DM with media waits for the channel's next DM poll (the reconciliation cadence). */
  dmPoll?: DmPollRequest;
}

/** What one delivery did, for the log line and metrics (counts only: no content, no ids of people). */
export interface WebhookReport {
  events: number;
  published: number;
  /** Items the ledger had already delivered (X duplicates, replay, a poll that came first). */
  duplicates: number;
  /** Messages not made, by reason (own posts, switch off, channel not active…). */
  skipped: Partial<Record<SkipReason, number>>;
  /** Event types x-channel does not handle, by type. */
  unknownTypes: Record<string, number>;
  /** Known types whose payload could not be read, by type. */
  malformed: Record<string, number>;
  /** Events for an account no channel holds. */
  unroutable: number;
  /** Channels put in `needs_reauth` by `oauth.revoke`. */
  revoked: number;
  /** Channels an event of this delivery was for (their health's "last event"); not logged. */
  channelIds: string[];
  /** XChat messages published now as encrypted DMs, per channel (health counts them); not logged. */
  encryptedByChannel: Record<string, number>;
}

/** The reason shown on a channel whose account revoked the app at X. */
export const REVOKED_REASON = 'the X account revoked this app’s access (oauth.revoke): sign in with X again';

/** Parses a verified raw body into its events. Never throws; the error names the field. */
export function parseWebhookBody(raw: string): ParseResult<XaaEvent[]> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, error: 'body is not valid JSON' };
  }
  // two schemas rather than a union, so that an error names the field instead of "invalid input"
  const batch = Array.isArray((json as { data?: unknown } | null)?.data);
  const parsed = (batch ? xaaBatchBodySchema : xaaBodySchema).safeParse(json);
  if (!parsed.success) return { ok: false, error: describeIssues(parsed.error) };
  const data = parsed.data.data;
  return { ok: true, value: Array.isArray(data) ? data : [data] };
}

/** X's replay completion body (X-API.md §9), or null when `raw` is something else. */
export function parseReplayStatus(raw: string): { job_id: string; job_state: string } | null {
  if (!raw.includes('"replay_job_status"')) return null;
  try {
    const status = (JSON.parse(raw) as { replay_job_status?: Record<string, unknown> } | null)
      ?.replay_job_status;
    if (status && typeof status.job_id === 'string' && typeof status.job_state === 'string')
      return { job_id: status.job_id.slice(0, 64), job_state: status.job_state.slice(0, 40) };
  } catch {
    /* not JSON: the event parser names the problem */
  }
  return null;
}

const bump = <K extends string>(map: Partial<Record<K, number>>, key: K, by = 1) => {
  map[key] = (map[key] ?? 0) + by;
};

/**
 * Delivers the events of one verified delivery. Resolves once every message is on the inbound queue
 * (or was already delivered); throws the first read/publish error otherwise (the caller answers 5xx).
 * `onMalformed` sees each unreadable event (type and problem: field names only).
 */
export async function deliverEvents(
  deps: WebhookDeps,
  events: XaaEvent[],
  onMalformed?: (info: { eventType: string; problem: string }) => void,
): Promise<WebhookReport> {
  const report: WebhookReport = {
    events: events.length,
    published: 0,
    duplicates: 0,
    skipped: {},
    unknownTypes: {},
    malformed: {},
    unroutable: 0,
    revoked: 0,
    channelIds: [],
    encryptedByChannel: {},
  };
  const touched = new Set<string>();
  const receivedAt = deps.clock.now().toISOString();
  const channelsOf = memoChannels(deps);
  const messages: InboundMessage[] = [];
  /** Per channel, the oldest DM with media left to the poller (its created time). */
  const mediaDms = new Map<string, string>();
  for (const raw of events) {
    const event = classifyEvent(raw);
    switch (event.type) {
      case 'unknown':
        bump(report.unknownTypes, event.eventType);
        break;
      case 'malformed':
        bump(report.malformed, event.eventType);
        onMalformed?.({ eventType: event.eventType, problem: event.problem });
        break;
      case 'revoke': {
        const channels = await channelsOf(event.accountId);
        if (!channels.length) report.unroutable++;
        for (const c of channels) {
          await markNeedsReauth(deps.channels, c.id, REVOKED_REASON);
          report.revoked++;
        }
        break;
      }
      case 'mention':
      case 'dm':
      case 'chat': {
        const channels = await channelsOf(event.accountId);
        if (!channels.length) report.unroutable++;
        for (const c of channels) {
          touched.add(c.id);
          const out = mapForChannel(event, c, receivedAt);
          messages.push(...out.messages);
          for (const reason of out.skipped) bump(report.skipped, reason);
          for (const m of out.deferred ?? []) {
            const held = mediaDms.get(c.id);
            if (!held || m.createdAt < held) mediaDms.set(c.id, m.createdAt);
          }
        }
        break;
      }
      default: {
        const never: never = event;
        throw new Error(`unhandled event ${String(never)}`);
      }
    }
  }
  const result = await deps.publisher.publishNew(messages);
  // a failure here is a 5xx like any other: the watch replays the minute and the DM is deferred again
  for (const [channelId, heldFrom] of mediaDms) await deps.dmPoll?.requestDmPoll(channelId, heldFrom);
  report.published = result.published.length;
  report.duplicates = result.duplicates;
  report.channelIds = [...touched];
  for (const m of result.published)
    if (m.kind === 'dm' && m.encrypted)
      report.encryptedByChannel[m.channelId] = (report.encryptedByChannel[m.channelId] ?? 0) + 1;
  return report;
}

/** Channel lookups for one delivery, each account read once. */
function memoChannels(deps: WebhookDeps) {
  const seen = new Map<string, Promise<Channel[]>>();
  return (accountId: string): Promise<Channel[]> => {
    let found = seen.get(accountId);
    if (!found) {
      found = (async () => {
        const ids = await deps.accounts.channelIdsFor(accountId);
        const channels = await Promise.all(ids.map((id) => deps.channels.get(id)));
        // a claim whose channel is gone, or now holds another account, routes nowhere
        return channels.filter((c): c is Channel => Boolean(c && c.account?.id === accountId));
      })();
      seen.set(accountId, found);
    }
    return found;
  };
}
