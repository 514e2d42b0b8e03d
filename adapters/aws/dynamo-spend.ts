/**
 * `SpendLedger` on the single table (./table.ts):
 *
 * | item                     | pk                               | sk          | notes |
 * |--------------------------|----------------------------------|-------------|-------|
 * | billed-today marker      | `SEEN#<day>#<kind>:<id>`         | `SEEN`      | X bills a resource once per UTC day per app; TTL 2 days |
 * | channel day counter      | `COST#<channelId>`               | `D#<day>`   | `usdMicros` + `n:<category>` counts (ADD); TTL ~400 days |
 * | channel month counter    | `COST#<channelId>`               | `M#<month>` | `usdMicros` of the month (ADD), read with the budgets in one BatchGet (core/cost/budget-floor.ts) |
| app month counter shard  | `COSTAPP#<shard>`                | `M#<month>` | the same counters summed app-wide, 16 shards by channel |
 *
 * One invocation's items are ONE `TransactWriteItems`: a conditional put per resource (absent = not yet
 * billed today) plus the three `ADD` updates, so a marker and its count land together or not at all. When
 * markers already exist (another container billed them today) the cancellation names them, they are
 * dropped and the rest is written again; a per-container memory of today's markers keeps that rare.
 * Transactions take ≤ 100 items: more resources are written in chunks of 97. The app counter is sharded
 * so concurrent channels' transactions seldom meet on one item (a `TransactionConflict` is retried).
 *
 * A poll or a send does not pay a request of its own for this: `ride` hands the same parts (for up to 96
 * resources) to the poll's final write (adapters/aws/dynamo-poll-state.ts) or the command's completion
 * (adapters/aws/dynamo-idempotency.ts), which sends them with its own update as ONE `TransactWriteItems`;
 * what does not fit, or a write that was refused, is written by `record` at the invocation's end as before.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  QueryCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { PricedItem } from '../../core/cost/billable';
import {
  utcDay,
  utcMonth,
  type SpendDay,
  type SpendLedger,
  type SpendMonth,
  type SpendRecorded,
} from '../../core/cost/meter';
import { batchGetAll } from './batch-get';

export const APP_COST_SHARDS = 16;
const CHUNK = 97;
const COUNTER_TTL_DAYS = 400;
const MEMORY_CAP = 200_000;

export const spendKeys = {
  seen: (day: string, dedupKey: string) => ({ pk: `SEEN#${day}#${dedupKey}`, sk: 'SEEN' }),
  day: (channelId: string, day: string) => ({ pk: `COST#${channelId}`, sk: `D#${day}` }),
  month: (channelId: string, month: string) => ({ pk: `COST#${channelId}`, sk: `M#${month}` }),
  appMonth: (shard: number, month: string) => ({ pk: `COSTAPP#${shard}`, sk: `M#${month}` }),
};

/** The app counter shard of a channel (FNV-1a, stable across processes). */
export function appShardOf(channelId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < channelId.length; i++) {
    h ^= channelId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % APP_COST_SHARDS;
}

/** One part of a `TransactWriteItems` (document-client shape). */
export type TransactPart = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * One invocation's spend (a prefix of its items, one UTC day) as parts of another write's transaction.
 * The owner of that transaction sends `parts()` after its own part and reports what happened.
 */
export interface SpendRide {
  /** How many of the offered items this ride covers (a prefix; duplicates of today included). */
  readonly taken: number;
  /** The parts to send (markers first, then the three counters); empty when all was billed already. */
  parts(): TransactPart[];
  /** The transaction committed: the markers are remembered; what was counted. */
  committed(): SpendRecorded;
  /**
   * The transaction was cancelled; `reasons` are those of this ride's parts, in order. True when
   * markers found there (resources another container billed today) were dropped — send `parts()`
   * again; false when the cancellation was about something else.
   */
  billedElsewhere(reasons: Array<{ Code?: string } | undefined>): boolean;
}

/** The ledger on the table, with the ride other writes can give it. */
export interface DynamoSpendLedger extends SpendLedger {
  /** `items` of `channelId` on `at`'s day as at most `room` transaction parts; null when no room. */
  ride(channelId: string, at: Date, items: readonly PricedItem[], room: number): SpendRide | null;
}

export interface DynamoSpendLedgerOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Waits between transaction-conflict retries (tests pass a no-op). */
  sleep?: (ms: number) => Promise<void>;
}

const counterName = (category: string) => `n:${category}`;

function countersOf(item: Record<string, unknown> | undefined): {
  micros: number;
  counts: Record<string, number>;
} {
  const counts: Record<string, number> = {};
  for (const [k, v] of Object.entries(item ?? {})) {
    if (k.startsWith('n:') && typeof v === 'number') counts[k.slice(2)] = v;
  }
  return { micros: typeof item?.usdMicros === 'number' ? item.usdMicros : 0, counts };
}

export function createDynamoSpendLedger(options: DynamoSpendLedgerOptions): DynamoSpendLedger {
  const { client, tableName: TableName } = options;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  // markers this container wrote or found today: skipped without asking DynamoDB again
  let memoryDay = '';
  const memory = new Set<string>();
  const remember = (day: string, key: string) => {
    if (day !== memoryDay) {
      memory.clear();
      memoryDay = day;
    }
    if (memory.size < MEMORY_CAP) memory.add(key);
  };
  const known = (day: string, key: string) => day === memoryDay && memory.has(key);

  function update(key: Record<string, string>, items: PricedItem[], ttl: number) {
    const names: Record<string, string> = { '#ttl': 'expiresAt' };
    const values: Record<string, number> = { ':ttl': ttl, ':usd': 0 };
    const adds = ['usdMicros :usd'];
    const counts = new Map<string, number>();
    for (const item of items) {
      values[':usd'] += item.micros;
      counts.set(item.category, (counts.get(item.category) ?? 0) + 1);
    }
    let i = 0;
    for (const [category, n] of counts) {
      names[`#n${i}`] = counterName(category);
      values[`:n${i}`] = n;
      adds.push(`#n${i} :n${i}`);
      i++;
    }
    return {
      Update: {
        TableName,
        Key: key,
        UpdateExpression: `ADD ${adds.join(', ')} SET #ttl = :ttl`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    };
  }

  /** The channel's month total: µUSD only (the budgets compare with it; the report reads the days). */
  function monthTotal(key: Record<string, string>, items: PricedItem[], ttl: number) {
    return {
      Update: {
        TableName,
        Key: key,
        UpdateExpression: 'ADD usdMicros :usd SET #ttl = :ttl',
        ExpressionAttributeNames: { '#ttl': 'expiresAt' },
        ExpressionAttributeValues: { ':usd': items.reduce((s, i) => s + i.micros, 0), ':ttl': ttl },
      },
    };
  }

  /** The parts that count `pending` (resources not yet billed on `at`'s day): markers first. */
  function partsOf(channelId: string, at: Date, pending: PricedItem[]) {
    const day = utcDay(at);
    const dayEnd = Math.floor(Date.parse(`${day}T00:00:00.000Z`) / 1000) + 86_400;
    const marked = pending.filter((p) => p.dedupKey);
    const parts: TransactPart[] = [
      ...marked.map((p) => ({
        Put: {
          TableName,
          Item: { ...spendKeys.seen(day, p.dedupKey!), channelId, expiresAt: dayEnd + 86_400 },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      })),
      update(spendKeys.day(channelId, day), pending, dayEnd + COUNTER_TTL_DAYS * 86_400),
      monthTotal(spendKeys.month(channelId, utcMonth(at)), pending, dayEnd + COUNTER_TTL_DAYS * 86_400),
      update(
        spendKeys.appMonth(appShardOf(channelId), utcMonth(at)),
        pending,
        dayEnd + COUNTER_TTL_DAYS * 86_400,
      ),
    ];
    return { day, marked, parts };
  }

  /** The markers a cancellation found (already billed today), remembered; empty when none. */
  function billedIn(day: string, marked: PricedItem[], reasons: Array<{ Code?: string } | undefined>) {
    const billed = new Set<string>();
    reasons.forEach((r, i) => {
      if (r?.Code === 'ConditionalCheckFailed' && i < marked.length) billed.add(marked[i].dedupKey!);
    });
    for (const k of billed) remember(day, k);
    return billed;
  }

  /** Writes one chunk; returns the items counted (markers found are dropped and the rest retried). */
  async function writeChunk(channelId: string, at: Date, chunk: PricedItem[]): Promise<PricedItem[]> {
    let pending = chunk;
    for (let attempt = 0; ; attempt++) {
      if (!pending.length) return [];
      const { day, marked, parts } = partsOf(channelId, at, pending);
      try {
        await client.send(new TransactWriteCommand({ TransactItems: parts }));
        for (const p of marked) remember(day, p.dedupKey!);
        return pending;
      } catch (e) {
        if (
          !(e instanceof TransactionCanceledException) &&
          (e as Error)?.name !== 'TransactionCanceledException'
        )
          throw e;
        const billed = billedIn(day, marked, (e as TransactionCanceledException).CancellationReasons ?? []);
        if (billed.size) {
          pending = pending.filter((p) => !p.dedupKey || !billed.has(p.dedupKey));
          continue;
        }
        // a conflict with another transaction on the same counter: try again shortly
        if (attempt >= 5) throw e;
        await sleep(20 * 2 ** attempt + Math.floor(Math.random() * 20));
      }
    }
  }

  return {
    ride(channelId, at, items, room) {
      const max = Math.min(CHUNK, room - 3);
      if (max < 1) return null;
      const day = utcDay(at);
      // the same filter as `record`: one charge per resource per day, also within these items
      const seen = new Set<string>();
      const fresh: PricedItem[] = [];
      let taken = 0;
      let duplicates = 0;
      for (const item of items) {
        if (item.dedupKey && (seen.has(item.dedupKey) || known(day, item.dedupKey))) {
          duplicates++;
          taken++;
          continue;
        }
        if (fresh.length >= max) break;
        if (item.dedupKey) seen.add(item.dedupKey);
        fresh.push(item);
        taken++;
      }
      let pending = fresh;
      let built = partsOf(channelId, at, pending);
      return {
        taken,
        parts: () => (pending.length ? built.parts : []),
        committed() {
          if (pending.length) for (const p of built.marked) remember(day, p.dedupKey!);
          return {
            micros: pending.reduce((sum, p) => sum + p.micros, 0),
            counted: pending.length,
            duplicates: duplicates + fresh.length - pending.length,
          };
        },
        billedElsewhere(reasons) {
          const billed = billedIn(day, built.marked, reasons);
          if (!billed.size) return false;
          pending = pending.filter((p) => !p.dedupKey || !billed.has(p.dedupKey));
          built = partsOf(channelId, at, pending);
          return true;
        },
      };
    },

    async record(channelId, at, items) {
      const day = utcDay(at);
      const out: SpendRecorded = { micros: 0, counted: 0, duplicates: 0 };
      // one charge per resource per day, also within this batch
      const seen = new Set<string>();
      const fresh: PricedItem[] = [];
      for (const item of items) {
        if (item.dedupKey && (seen.has(item.dedupKey) || known(day, item.dedupKey))) {
          out.duplicates++;
          continue;
        }
        if (item.dedupKey) seen.add(item.dedupKey);
        fresh.push(item);
      }
      for (let i = 0; i < fresh.length; i += CHUNK) {
        const chunk = fresh.slice(i, i + CHUNK);
        const counted = await writeChunk(channelId, at, chunk);
        out.duplicates += chunk.length - counted.length;
        out.counted += counted.length;
        for (const c of counted) out.micros += c.micros;
      }
      return out;
    },

    async days(channelId, month) {
      const result: SpendDay[] = [];
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': `COST#${channelId}`, ':prefix': `D#${month}` },
            ConsistentRead: true,
            ExclusiveStartKey,
          }),
        );
        for (const item of page.Items ?? []) {
          result.push({ day: String(item.sk).slice(2), ...countersOf(item) });
        }
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return result;
    },

    async appMonth(month) {
      const keys = Array.from({ length: APP_COST_SHARDS }, (_, s) => spendKeys.appMonth(s, month));
      const out: SpendMonth = { month, micros: 0, counts: {} };
      for (const item of await batchGetAll(client, TableName, keys, { ConsistentRead: true })) {
        const c = countersOf(item);
        out.micros += c.micros;
        for (const [k, v] of Object.entries(c.counts)) out.counts[k] = (out.counts[k] ?? 0) + v;
      }
      return out;
    },
  };
}
