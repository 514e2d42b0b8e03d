/**
 * DESIGN.md "Nothing lost, nothing doubled" for the two scans of a poll (core/inbound/mention-scan.ts,
 * dm-scan.ts), driven by fast-check over a simulated X that answers pages of any size (and, for
 * mentions, in any order inside a page), fails later pages, and gets new items between runs:
 * - after every run, what was delivered is exactly what the checkpoint (and its backlog band) says
 *   was delivered: a checkpoint never passes an undelivered item;
 * - no item is delivered twice; once X answers in full pages, every item is delivered.
 */
import fc from 'fast-check';
import type { ChannelCheckpoints } from '../../core/channel';
import { isChannelError, retryable, type ChannelError } from '../../core/errors';
import { compareEvents, scanDms, type DmPageReader } from '../../core/inbound/dm-scan';
import { compareXIds } from '../../core/inbound/mapping';
import { scanMentions, type MentionPageReader } from '../../core/inbound/mention-scan';
import type { XDmEventData, XTweetData } from '../../core/inbound/types';

const START = '2026-01-01T00:00:00.000Z';
const at = (n: number) => new Date(Date.parse(START) + 1000 + n * 1000).toISOString();
const toChannelError = (e: unknown): ChannelError =>
  isChannelError(e) ? e : retryable('internal', 'unexpected');
const includes = { users: [], media: [] };

/** How simulated X answers one run: page sizes (cycled, capped by maxResults) and failing calls. */
interface XBehaviour {
  pageSizes: number[];
  /** Calls (0-based, within the run) that fail with a 503. */
  failCalls: number[];
  /** Mentions only: the permutation seed for the order inside each page. */
  shuffleSeed: number;
  /** Mentions only: whether pages carry meta.newest_id / oldest_id. */
  withMeta: boolean;
}

const behaviour = fc.record({
  pageSizes: fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }),
  failCalls: fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 2 }),
  shuffleSeed: fc.integer(),
  withMeta: fc.boolean(),
});
const fullPages: XBehaviour = { pageSizes: [100], failCalls: [], shuffleSeed: 0, withMeta: true };

/** A run of the world: how many new items arrive first, and how X answers. */
const run = fc.record({ arrivals: fc.integer({ min: 0, max: 8 }), x: behaviour });

function shuffled<T>(list: T[], seed: number): T[] {
  const out = [...list];
  let s = seed | 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) | 0;
    const j = Math.abs(s) % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Pages `newestFirst` by offset like X's next_token, with the behaviour's sizes and faults. */
function pager<T>(x: XBehaviour) {
  let call = 0;
  return (newestFirst: T[], maxResults: number, token: string | undefined) => {
    const n = call++;
    if (x.failCalls.includes(n)) throw retryable('x_unavailable', 'simulated 503');
    const offset = token ? Number(token) : 0;
    const size = Math.min(maxResults, x.pageSizes[n % x.pageSizes.length]);
    const page = newestFirst.slice(offset, offset + size);
    const next = offset + size < newestFirst.length ? String(offset + size) : undefined;
    return { page, next };
  };
}

describe('mention scan: checkpoint order', () => {
  const tweet = (n: number): XTweetData => ({ id: String(1000 + n), text: `@acme ${n}`, created_at: at(n) });

  function reader(all: XTweetData[], x: XBehaviour): MentionPageReader {
    const page = pager<XTweetData>(x);
    return async (q) => {
      const newestFirst = all
        .filter((t) => !q.sinceId || compareXIds(t.id, q.sinceId) > 0)
        .filter((t) => !q.untilId || compareXIds(t.id, q.untilId) < 0)
        .filter((t) => q.sinceId || !q.startTime || t.created_at! >= q.startTime)
        .sort((a, b) => compareXIds(b.id, a.id));
      const { page: data, next } = page(newestFirst, q.maxResults, q.paginationToken);
      return {
        data: shuffled(data, x.shuffleSeed),
        includes,
        meta: {
          ...(x.withMeta ? { newest_id: data[0]?.id, oldest_id: data.at(-1)?.id } : {}),
          next_token: next,
          result_count: data.length,
        },
      };
    };
  }

  /** What the checkpoint says was delivered: up to `since`, plus the backlog band [until … newest]. */
  function claimedDelivered(
    all: XTweetData[],
    cp: Pick<ChannelCheckpoints, 'mentionsSinceId' | 'mentionsBacklog'>,
  ) {
    const band = cp.mentionsBacklog;
    return all
      .filter(
        (t) =>
          (cp.mentionsSinceId && compareXIds(t.id, cp.mentionsSinceId) <= 0) ||
          (band && compareXIds(t.id, band.untilId) >= 0 && compareXIds(t.id, band.newestId) <= 0),
      )
      .map((t) => t.id)
      .sort();
  }

  it('a checkpoint never passes an undelivered mention; pages of any size and order deliver each once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 20 }),
        fc.array(run, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 4 }),
        async (initial, runs, maxPages) => {
          // Prepare
          const all: XTweetData[] = [];
          const arrive = (k: number) => {
            for (let i = 0; i < k; i++) all.push(tweet(all.length));
          };
          arrive(initial);
          let cp: Pick<ChannelCheckpoints, 'mentionsSinceId' | 'mentionsBacklog'> = {
            mentionsSinceId: null,
            mentionsBacklog: null,
          };
          const delivered: string[] = [];
          const scanOnce = async (x: XBehaviour) => {
            try {
              const scan = await scanMentions(reader(all, x), {
                checkpoints: cp,
                startTime: START,
                maxPages,
                toChannelError,
              });
              delivered.push(...scan.items.map((i) => i.tweet.id));
              cp = scan.next;
            } catch {
              // the first page failed: nothing read, nothing moves
            }
          };
          // Act + Assess, run by run
          for (const r of runs) {
            arrive(r.arrivals);
            await scanOnce(r.x);
            expect(new Set(delivered).size).toBe(delivered.length);
            expect([...delivered].sort()).toEqual(claimedDelivered(all, cp));
          }
          for (let i = 0; i < 50 && delivered.length < all.length; i++) await scanOnce(fullPages);
          // Assess
          expect([...delivered].sort()).toEqual(all.map((t) => t.id).sort());
          expect(new Set(delivered).size).toBe(delivered.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('DM band scan: checkpoint order', () => {
  // some events share a second: ordered by (created_at, id) like X's history
  const event = (n: number): XDmEventData => ({
    id: String(5000 + n),
    event_type: 'MessageCreate',
    text: `dm ${n}`,
    sender_id: '2000',
    created_at: at(Math.floor(n / 2)),
  });
  const key = (e: XDmEventData) => ({ id: e.id, createdAt: e.created_at! });

  function reader(all: XDmEventData[], x: XBehaviour): DmPageReader {
    const page = pager<XDmEventData>(x);
    return async (q) => {
      const newestFirst = [...all].sort((a, b) => compareEvents(key(b), key(a)));
      const { page: data, next } = page(newestFirst, q.maxResults, q.paginationToken);
      return { data, includes, meta: { next_token: next, result_count: data.length } };
    };
  }

  type DmCp = Pick<ChannelCheckpoints, 'dmEventId' | 'dmCreatedAt' | 'dmBacklog'>;
  function claimedDelivered(all: XDmEventData[], cp: DmCp) {
    const band = cp.dmBacklog;
    const upTo = cp.dmEventId && cp.dmCreatedAt ? { id: cp.dmEventId, createdAt: cp.dmCreatedAt } : null;
    return all
      .filter(
        (e) =>
          (upTo && compareEvents(key(e), upTo) <= 0) ||
          (band &&
            compareEvents(key(e), { id: band.untilId, createdAt: band.untilCreatedAt }) >= 0 &&
            compareEvents(key(e), { id: band.newestId, createdAt: band.newestCreatedAt }) <= 0),
      )
      .map((e) => e.id)
      .sort();
  }

  it('a checkpoint never passes an undelivered DM; pages of any size deliver each once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 20 }),
        fc.array(run, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        async (initial, runs, maxPages, idlePageSize) => {
          // Prepare
          const all: XDmEventData[] = [];
          const arrive = (k: number) => {
            for (let i = 0; i < k; i++) all.push(event(all.length));
          };
          arrive(initial);
          let cp: DmCp = { dmEventId: null, dmCreatedAt: null, dmBacklog: null };
          const delivered: string[] = [];
          const scanOnce = async (x: XBehaviour) => {
            try {
              const scan = await scanDms(reader(all, x), {
                checkpoints: cp,
                startTime: START,
                maxPages,
                idlePageSize,
                toChannelError,
              });
              delivered.push(...scan.items.map((i) => i.event.id));
              cp = scan.next;
            } catch {
              // the first page failed: nothing read, nothing moves
            }
          };
          // Act + Assess, run by run
          for (const r of runs) {
            arrive(r.arrivals);
            await scanOnce(r.x);
            expect(new Set(delivered).size).toBe(delivered.length);
            expect([...delivered].sort()).toEqual(claimedDelivered(all, cp));
          }
          for (let i = 0; i < 50 && delivered.length < all.length; i++) await scanOnce(fullPages);
          // Assess
          expect([...delivered].sort()).toEqual(all.map((e) => e.id).sort());
          expect(new Set(delivered).size).toBe(delivered.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});
