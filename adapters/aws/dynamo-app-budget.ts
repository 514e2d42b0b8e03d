/**
 * `AppBudget` on the single table: X caps some writes per app across all accounts (X-API.md §3: DM sends
 * 1,440 per 24 h, posts incl. replies 10,000 per 24 h). One counter item per budget and UTC day at
 * `pk = BUDGET#<name>`, `sk = <YYYY-MM-DD>` (./table.ts), taken with a conditional `ADD` before calling X,
 * so concurrent senders together never exceed the cap.
 *
 * The counter item doubles as the budget's status for the health surface: the admin API reads the newest
 * item of `BUDGET#dm` / `BUDGET#post` with {@link readAppBudgetStatus} (`used`, `limit`, `windowEndsAt`,
 * `exhaustedAt`). Windows are fixed UTC days, a conservative stand-in for X's rolling 24 h (X resets
 * its own window; a 429 from X is still obeyed on top of this).
 */
import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AppBudget, BudgetName } from '../../core/outbound/ports';
import { keys } from './table';

export const DEFAULT_APP_BUDGETS: Readonly<Record<BudgetName, number>> = { dm: 1440, post: 10_000 };

export interface DynamoAppBudgetOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Units per UTC day. @default {@link DEFAULT_APP_BUDGETS} */
  limits?: Partial<Record<BudgetName, number>>;
}

/** The readable state of one budget window. */
export interface AppBudgetStatus {
  name: BudgetName;
  windowStart: string;
  windowEndsAt: string;
  limit: number;
  used: number;
  remaining: number;
  /** Set when a command had to wait for this window to end. */
  exhaustedAt: string | null;
}

const DAY_MS = 86_400_000;
const isConditionFailure = (e: unknown) => (e as Error)?.name === 'ConditionalCheckFailedException';

function windowOf(now: Date) {
  const start = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  return {
    id: new Date(start).toISOString().slice(0, 10),
    start: new Date(start),
    end: new Date(start + DAY_MS),
  };
}

export function createDynamoAppBudget({ client, tableName, limits = {} }: DynamoAppBudgetOptions): AppBudget {
  const TableName = tableName;
  const limitOf = (name: BudgetName) => limits[name] ?? DEFAULT_APP_BUDGETS[name];

  return {
    async take(name, now) {
      const w = windowOf(now);
      const limit = limitOf(name);
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: keys.budget(name, w.id),
            UpdateExpression:
              'ADD used :one SET #limit = :limit, windowStart = :start, windowEndsAt = :end, expiresAt = :ttl',
            ConditionExpression: 'attribute_not_exists(used) OR used < :limit',
            ExpressionAttributeNames: { '#limit': 'limit' },
            ExpressionAttributeValues: {
              ':one': 1,
              ':limit': limit,
              ':start': w.start.toISOString(),
              ':end': w.end.toISOString(),
              // keep two extra days so the health surface can still show yesterday's window
              ':ttl': Math.floor(w.end.getTime() / 1000) + 2 * 86400,
            },
          }),
        );
        return { ok: true, window: w.id };
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
      }
      await client
        .send(
          new UpdateCommand({
            TableName,
            Key: keys.budget(name, w.id),
            UpdateExpression: 'SET exhaustedAt = if_not_exists(exhaustedAt, :now)',
            ExpressionAttributeValues: { ':now': now.toISOString() },
          }),
        )
        .catch(() => undefined); // status only; the wait itself does not depend on it
      return { ok: false, window: w.id, retryAt: w.end };
    },

    async refund(name, window) {
      await client
        .send(
          new UpdateCommand({
            TableName,
            Key: keys.budget(name, window),
            UpdateExpression: 'ADD used :minusOne',
            ConditionExpression: 'used > :zero',
            ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
          }),
        )
        .catch((e) => {
          if (!isConditionFailure(e)) throw e;
        });
    },
  };
}

/** Reads a budget's current window for the health surface (null before the first send of the day). */
export async function readAppBudgetStatus(
  options: {
    client: DynamoDBDocumentClient;
    tableName: string;
    limits?: Partial<Record<BudgetName, number>>;
  },
  name: BudgetName,
  now: Date = new Date(),
): Promise<AppBudgetStatus> {
  const w = windowOf(now);
  const out = await options.client.send(
    new QueryCommand({
      TableName: options.tableName,
      KeyConditionExpression: 'pk = :pk AND sk = :sk',
      ExpressionAttributeValues: { ':pk': keys.budget(name, w.id).pk, ':sk': w.id },
      ConsistentRead: true,
    }),
  );
  const item = out.Items?.[0];
  const limit = (item?.limit as number | undefined) ?? options.limits?.[name] ?? DEFAULT_APP_BUDGETS[name];
  const used = (item?.used as number | undefined) ?? 0;
  return {
    name,
    windowStart: w.start.toISOString(),
    windowEndsAt: w.end.toISOString(),
    limit,
    used,
    remaining: Math.max(0, limit - used),
    exhaustedAt: (item?.exhaustedAt as string | undefined) ?? null,
  };
}
