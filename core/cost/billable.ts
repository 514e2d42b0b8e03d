/**
 * What X bills for one call or one delivered event (X-API.md §4, §9), worked out from the call as it
 * went over the wire: the endpoint, the answer's status and body, and for writes the request body.
 * Pure functions: the X adapter hands every answer to them (adapters/x/client.ts `onResponse`), so
 * every call the poller, sender, webhook or subscription code makes is seen, whoever made it.
 *
 * Billed as X documents it: reads per resource in `data` (expanded `includes` are not counted; X does
 * not say they are [uncertain]); empty answers and failed calls (status ≥ 400) cost nothing; a post
 * whose text has a URL is the $0.20 kind, a reply (to a post that summoned the account) the $0.01 kind.
 */
import { extractUrls } from 'twitter-text';
import type { ReadKind, WriteKind, XPriceTable } from './prices';

/** One billable thing: a read resource (deduplicated per UTC day), a write, or a delivered event. */
export type Billable =
  | { type: 'read'; kind: ReadKind; id: string }
  | { type: 'write'; kind: WriteKind }
  | { type: 'event'; eventType: string; id: string };

/** One finished X API call, as the client's response hook sees it. */
export interface XCallSeen {
  method: string;
  /** URL path, e.g. `/2/users/123/mentions`. */
  path: string;
  status: number;
  /** The JSON request body of a write, as sent. */
  requestBody?: string;
  /** The parsed JSON answer. */
  data: unknown;
}

export interface BillableOptions {
  /** The X user id that owns the developer app: its own timeline reads are Owned Reads ($0.001). */
  appOwnerUserId?: string;
}

const ids = (data: unknown): string[] => {
  const list = (data as { data?: unknown } | null)?.data;
  if (!Array.isArray(list)) return [];
  return list.map((d) => (d as { id?: unknown })?.id).filter((id): id is string => typeof id === 'string');
};

const single = (data: unknown): string[] => {
  const id = ((data as { data?: unknown } | null)?.data as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? [id] : [];
};

const READ_ROUTES: Array<{
  re: RegExp;
  kind: (m: RegExpMatchArray, o: BillableOptions) => ReadKind;
  many: boolean;
}> = [
  {
    re: /^\/2\/users\/([0-9]+)\/(mentions|tweets)$/,
    kind: (m, o) => (o.appOwnerUserId && m[1] === o.appOwnerUserId ? 'ownedRead' : 'postRead'),
    many: true,
  },
  { re: /^\/2\/dm_events$/, kind: () => 'dmEventRead', many: true },
  { re: /^\/2\/dm_conversations\/(with\/[0-9]+|[0-9-]+)\/dm_events$/, kind: () => 'dmEventRead', many: true },
  { re: /^\/2\/users\/(me|[0-9]+|by\/username\/[A-Za-z0-9_]+)$/, kind: () => 'userRead', many: false },
];

/** The billable items of one X API call. */
export function billablesOfCall(call: XCallSeen, options: BillableOptions = {}): Billable[] {
  if (call.status >= 400) return [];
  const method = call.method.toUpperCase();
  const path = call.path.replace(/\/+$/, '');
  if (method === 'GET') {
    for (const route of READ_ROUTES) {
      const m = path.match(route.re);
      if (!m) continue;
      const kind = route.kind(m, options);
      return (route.many ? ids(call.data) : single(call.data)).map((id) => ({ type: 'read', kind, id }));
    }
    return [];
  }
  if (method !== 'POST') return [];
  if (path === '/2/tweets') return [{ type: 'write', kind: postKind(call.requestBody) }];
  if (/^\/2\/dm_conversations\/(with\/[0-9]+|[0-9-]+)\/messages$/.test(path))
    return [{ type: 'write', kind: 'dm' }];
  if (/^\/2\/users\/[0-9]+\/following$/.test(path)) return [{ type: 'write', kind: 'follow' }];
  return [];
}

function postKind(body: string | undefined): WriteKind {
  let parsed: { text?: unknown; reply?: { in_reply_to_tweet_id?: unknown } } = {};
  try {
    parsed = JSON.parse(body ?? '{}') as typeof parsed;
  } catch {
    // not JSON: priced as a plain post
  }
  if (parsed.reply?.in_reply_to_tweet_id) return 'reply';
  return typeof parsed.text === 'string' && extractUrls(parsed.text).length ? 'postWithUrl' : 'post';
}

/**
 * The billable item of one delivered XAA event, or null for a free type. The object is the post, DM
 * event or chat message the event is about (X deduplicates per event type and object per UTC day).
 */
export function billableOfEvent(
  event: { event_type: string; event_uuid?: string; payload?: unknown },
  prices: XPriceTable,
): Billable | null {
  if (!(event.event_type in prices.events)) return null;
  const p = event.payload as { id?: unknown; direct_message_events?: Array<{ id?: unknown }> } | undefined;
  const id =
    (typeof p?.id === 'string' && p.id) ||
    (typeof p?.direct_message_events?.[0]?.id === 'string' && p.direct_message_events[0].id) ||
    event.event_uuid;
  if (!id) return null;
  return { type: 'event', eventType: event.event_type, id };
}

/** A billable item priced: its counter category, price and (reads, events) its per-day dedup key. */
export interface PricedItem {
  category: string;
  micros: number;
  /** `<kind>:<id>`; absent for writes (billed per request). */
  dedupKey?: string;
}

/** Counter category of an event type, e.g. `ev:post.mention.create`. */
export const eventCategory = (eventType: string) => `ev:${eventType}`;

export function priceItem(item: Billable, prices: XPriceTable): PricedItem {
  switch (item.type) {
    case 'read':
      // an owned read is a post read at another price: one resource, one charge per day
      return {
        category: item.kind,
        micros: prices.reads[item.kind],
        dedupKey: `${item.kind === 'ownedRead' ? 'postRead' : item.kind}:${item.id}`,
      };
    case 'write':
      return { category: item.kind, micros: prices.writes[item.kind] };
    case 'event':
      return {
        category: eventCategory(item.eventType),
        micros: prices.events[item.eventType] ?? 0,
        dedupKey: `event.${item.eventType}:${item.id}`,
      };
  }
}
