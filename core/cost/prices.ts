/**
 * X's price list as the product meters it: one versioned table with its sources, in integer micro-dollars
 * (1 USD = 1,000,000 µUSD) so sums of $0.005 and $0.001 stay exact. Deployments override single prices
 * through configuration (`XC_X_PRICES`, JSON) when X changes them before this table does; the version
 * shown on the cost surface then reads `<version>+override`.
 *
 * Rules the meter applies with it (X-API.md §4, §9):
 * - reads are charged per resource returned, each resource once per UTC day (per app);
 * - writes per request; a reply is the cheaper "summoned reply" (self-serve plans only allow those);
 * - X Activity API events per delivered event, deduplicated per event type and object per UTC day;
 *   types not listed are free (`dm.sent`, `post.delete`, …);
 * - Owned Reads ($0.001) only when the account reading its own timeline owns the developer app.
 *
 * The benchmark keeps its own copy (bench/prices.ts, the bench engineer's) and may import this one.
 */

/** Read kinds, as X bills them. */
export const READ_KINDS = ['postRead', 'ownedRead', 'userRead', 'dmEventRead'] as const;
export type ReadKind = (typeof READ_KINDS)[number];

/** Write kinds, as X bills them. */
export const WRITE_KINDS = ['post', 'postWithUrl', 'reply', 'dm', 'follow'] as const;
export type WriteKind = (typeof WRITE_KINDS)[number];

export interface XPriceTable {
  /** Date of the X price change the table follows, `+override` when configuration changed a price. */
  version: string;
  /** Where the numbers come from. */
  sources: readonly string[];
  /** µUSD per resource returned (once per UTC day). */
  reads: Readonly<Record<ReadKind, number>>;
  /** µUSD per request. */
  writes: Readonly<Record<WriteKind, number>>;
  /** µUSD per delivered XAA event of that type (once per object per UTC day); unlisted types are free. */
  events: Readonly<Record<string, number>>;
  /** Legacy monthly plans still held by existing subscribers (X-API.md §3 "Monthly Post-read caps"). */
  legacyPlans: Readonly<Record<'basic' | 'pro', { usdPerMonth: number; monthlyPostReads: number }>>;
  /** Pay-per-use monthly Post-read cap (X-API.md §0, 2026-08-13). */
  payPerUseMonthlyPostReads: number;
}

const usd = (dollars: number) => Math.round(dollars * 1_000_000);

/** X's pay-per-use price list since 2026-04-20 (caps as of 2026-08-13). */
export const X_PRICES_2026_08: XPriceTable = {
  version: '2026-08-13',
  sources: [
    'https://docs.x.com/x-api/getting-started/pricing',
    'https://docs.x.com/x-api/activity/event-pricing',
    'https://docs.x.com/changelog (2026-04-20: Owned Reads, post/reply prices; 2026-08-13: 3M read cap)',
  ],
  reads: { postRead: usd(0.005), ownedRead: usd(0.001), userRead: usd(0.01), dmEventRead: usd(0.01) },
  writes: { post: usd(0.015), postWithUrl: usd(0.2), reply: usd(0.01), dm: usd(0.015), follow: usd(0.015) },
  events: {
    'post.create': usd(0.005),
    'post.mention.create': usd(0.005),
    'post.reply.create': usd(0.005),
    'post.quote.create': usd(0.005),
    'post.repost.create': usd(0.005),
    'dm.received': usd(0.01),
    'chat.received': usd(0.01),
    'follow.follow': usd(0.01),
    'follow.unfollow': usd(0.01),
  },
  legacyPlans: {
    basic: { usdPerMonth: 200, monthlyPostReads: 15_000 },
    pro: { usdPerMonth: 5000, monthlyPostReads: 1_000_000 },
  },
  payPerUseMonthlyPostReads: 3_000_000,
};

/** The table in force. */
export const X_PRICES = X_PRICES_2026_08;

/**
 * Applies an override from configuration: JSON `{ "reads": { "postRead": 0.006 }, "events": {…}, … }`
 * in USD. Throws naming the first bad key (the config loader reports it with the variable's name).
 */
export function applyPriceOverride(base: XPriceTable, json: string | undefined): XPriceTable {
  if (json === undefined || json.trim() === '') return base;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error('is not valid JSON');
  }
  if (!isRecord(parsed)) throw new Error('must be a JSON object');
  const known = new Set(['reads', 'writes', 'events']);
  for (const key of Object.keys(parsed)) {
    if (!known.has(key)) throw new Error(`${key}: unknown section; allowed: reads, writes, events`);
  }
  const section = <K extends string>(name: string, current: Readonly<Record<K, number>>, open: boolean) => {
    const raw = parsed[name];
    if (raw === undefined) return current;
    if (!isRecord(raw)) throw new Error(`${name}: must be an object of prices in USD`);
    const out: Record<string, number> = { ...current };
    for (const [k, v] of Object.entries(raw)) {
      if (!open && !(k in current))
        throw new Error(`${name}.${k}: unknown price; allowed: ${Object.keys(current).join(', ')}`);
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100)
        throw new Error(`${name}.${k}: must be a price in USD between 0 and 100, got ${JSON.stringify(v)}`);
      out[k] = usd(v);
    }
    return out as Record<K, number>;
  };
  return {
    ...base,
    version: `${base.version}+override`,
    reads: section('reads', base.reads, false),
    writes: section('writes', base.writes, false),
    events: section('events', base.events, true),
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** µUSD → USD, rounded to the micro-dollar. */
export const toUsd = (micros: number) => Math.round(micros) / 1_000_000;
