/**
 * The channel as the console reads it from the admin API (DESIGN.md "Admin API"). Parsed leniently:
 * unknown fields are ignored and missing optional ones get defaults, so a newer API does not break
 * an older console; a missing `id` is an error.
 */

/** The X account a channel is signed in as. */
export interface AccountView {
  id: string;
  username: string;
  name: string;
}

/** One rate-limit window as last seen in X's headers. */
export interface RateWindowView {
  endpoint: string;
  limit: number;
  remaining: number;
  resetAt: string;
}

/** Real time (X Activity API) of a channel. */
export interface RealtimeView {
  state: 'on' | 'off' | 'catching_up';
  reasonCode: string | null;
  reason: string | null;
  lastEventAt: string | null;
  catchingUpSince: string | null;
  /** XChat (encrypted) messages the webhook delivered as DMs with empty text (`realtime.encryptedDms`). */
  encryptedDms: number;
  subscriptions: string[];
}

/** Health of a channel, flattened for display. */
export interface HealthView {
  realtime: RealtimeView | null;
  lastPollAt: string | null;
  lastSuccessAt: string | null;
  nextPollAt: string | null;
  lastError: { code: string; message: string; at: string | null } | null;
  rateLimits: RateWindowView[];
  disabled: { mentions?: string; dms?: string; autoFollow?: string };
  counters: {
    mentionsDelivered: number;
    dmsDelivered: number;
    followed: number;
    sent: number;
    failed: number;
    /** DM attachments stored in the media bucket / delivered unavailable (their download failed). */
    attachmentsStored: number;
    attachmentsUnavailable: number;
  };
}

/** A channel with what the console shows. */
export interface ChannelView {
  id: string;
  name: string | null;
  status: string;
  statusReason: string | null;
  account: AccountView | null;
  listenMentions: boolean;
  listenDms: boolean;
  autoFollow: boolean;
  /** Switches whose OAuth scope X has not granted yet (a new Sign in with X grants it). */
  needsReauthorization: SwitchFeature[];
  health: HealthView;
}

/** Feature names the API uses in `needsReauthorization`. */
export type SwitchFeature = 'mentions' | 'dms' | 'autoFollow' | 'media';
const FEATURES: readonly string[] = ['mentions', 'dms', 'autoFollow', 'media'];

/** The three switches, named as in the API. */
export type SwitchKey = 'listenMentions' | 'listenDms' | 'autoFollow';
export const SWITCH_KEYS: readonly SwitchKey[] = ['listenMentions', 'listenDms', 'autoFollow'];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Reads the health object (either a channel's `health` or the body of `GET /channels/{id}/health`). */
export function toHealth(raw: unknown): HealthView {
  const h = isObj(raw) && isObj(raw.health) ? raw.health : isObj(raw) ? raw : {};
  const c = isObj(h.counters) ? h.counters : {};
  const err = isObj(h.lastError) ? h.lastError : null;
  const windows = isObj(h.rateLimits) ? h.rateLimits : {};
  const disabled = isObj(h.disabled) ? h.disabled : {};
  // the channel's `realtime` sits beside `health` in GET /channels, inside the health answer
  const rt = isObj(h.realtime) ? h.realtime : isObj(raw) && isObj(raw.realtime) ? raw.realtime : null;
  const state = rt?.state === 'on' || rt?.state === 'catching_up' ? rt.state : 'off';
  return {
    realtime: rt
      ? {
          state,
          reasonCode: str(rt.reasonCode),
          reason: str(rt.reason),
          lastEventAt: str(rt.lastEventAt),
          catchingUpSince: str(rt.catchingUpSince),
          encryptedDms: num(rt.encryptedDms),
          subscriptions: (Array.isArray(rt.subscriptions) ? rt.subscriptions : [])
            .map((s) => (isObj(s) ? str(s.eventType) : null))
            .filter((t): t is string => t !== null),
        }
      : null,
    lastPollAt: str(h.lastPollAt),
    lastSuccessAt: str(h.lastSuccessAt),
    nextPollAt: str(h.nextPollAt),
    lastError: err
      ? { code: str(err.code) ?? 'internal', message: str(err.message) ?? '', at: str(err.at) }
      : null,
    rateLimits: Object.entries(windows)
      .filter((e): e is [string, Obj] => isObj(e[1]))
      .map(([endpoint, w]) => ({
        endpoint,
        limit: num(w.limit),
        remaining: num(w.remaining),
        resetAt: str(w.resetAt) ?? '',
      })),
    disabled: {
      mentions: str(disabled.mentions) ?? undefined,
      dms: str(disabled.dms) ?? undefined,
      autoFollow: str(disabled.autoFollow) ?? undefined,
    },
    counters: {
      mentionsDelivered: num(c.mentionsDelivered),
      dmsDelivered: num(c.dmsDelivered),
      followed: num(c.followed),
      sent: num(c.sent),
      failed: num(c.failed),
      attachmentsStored: num(c.attachmentsStored),
      attachmentsUnavailable: num(c.attachmentsUnavailable),
    },
  };
}

/** Reads one channel; accepts the channel itself or `{ channel }`. */
export function toChannel(raw: unknown): ChannelView {
  const c = isObj(raw) && isObj(raw.channel) ? raw.channel : raw;
  if (!isObj(c) || !str(c.id)) throw new Error('the API answered a channel without an id');
  const a = isObj(c.account) ? c.account : null;
  return {
    id: String(c.id),
    name: str(c.name),
    status: str(c.status) ?? 'pending_auth',
    statusReason: str(c.statusReason),
    account:
      a && str(a.id) ? { id: String(a.id), username: str(a.username) ?? '', name: str(a.name) ?? '' } : null,
    listenMentions: c.listenMentions === true,
    listenDms: c.listenDms === true,
    autoFollow: c.autoFollow === true,
    needsReauthorization: Array.isArray(c.needsReauthorization)
      ? (c.needsReauthorization.filter(
          (f) => typeof f === 'string' && FEATURES.includes(f),
        ) as SwitchFeature[])
      : [],
    health: toHealth(c.health ?? {}),
  };
}

/** Reads `GET /channels`: a bare array, or `{ items }` / `{ channels }` / `{ data }`. */
export function toChannelList(raw: unknown): ChannelView[] {
  const list = Array.isArray(raw)
    ? raw
    : isObj(raw)
      ? ((raw.items ?? raw.channels ?? raw.data) as unknown)
      : undefined;
  if (!Array.isArray(list)) throw new Error('the API answered the channel list in an unknown shape');
  return list.map(toChannel);
}

/** A channel deleted while X could not revoke its grant ("deleted, revocation pending"). */
export interface PendingRevocationView {
  channelId: string;
  name: string | null;
  username: string | null;
  attempts: number;
  lastError: string;
}

/** Reads `pendingRevocations` of `GET /channels` (absent on older APIs: none). */
export function toPendingRevocations(raw: unknown): PendingRevocationView[] {
  const list = isObj(raw) && Array.isArray(raw.pendingRevocations) ? raw.pendingRevocations : [];
  return list.filter(isObj).map((r) => ({
    channelId: String(r.channelId),
    name: typeof r.name === 'string' ? r.name : null,
    username: isObj(r.account) && typeof r.account.username === 'string' ? r.account.username : null,
    attempts: typeof r.attempts === 'number' ? r.attempts : 0,
    lastError: typeof r.lastError === 'string' ? r.lastError : '',
  }));
}
