/**
 * `DeliveredLedger` on the single table (layout in ./table.ts): one item per (channel, inbound id),
 * `DLV#<channelId>#<id>` / `DELIVERED`, with `expiresAt` a few days ahead (DynamoDB TTL).
 *
 * The ordering rule and its crash timeline live with the port (core/inbound/delivered.ts): read,
 * publish, then record. Hence:
 * - reads are eventually consistent BatchGetItem (half the price of a strong read): a read that misses
 *   a record written a moment ago lets a duplicate through to SQS, where FIFO dedup (5 minutes,
 *   `<channelId>:<id>`) drops it;
 * - records are unconditional BatchWriteItem puts: recording an item twice is harmless (it only moves
 *   the expiry), so a condition would cost the same write and decide nothing;
 * - DynamoDB deletes expired items lazily (up to days later), so a read also compares `expiresAt`
 *   with the clock: an item past its TTL counts as not delivered, exactly as the in-memory fake does.
 * Cost per delivered message: one write (1 WRU) plus half a read unit, shared by up to 100 per call.
 */
import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { retryable } from '../../core/errors';
import { deliveredKeyOf, type DeliveredKey, type DeliveredLedger } from '../../core/inbound/delivered';
import { systemClock, type Clock } from '../../core/ports';
import { TTL_ATTRIBUTE, keys } from './table';

export interface DynamoDeliveredLedgerOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** How long an item is remembered. Longer than any path can bring it again (replay: 24 h). */
  ttlHours: number;
  clock?: Clock;
  /** Rounds of retrying unprocessed keys/items (throttling) before the call fails `retryable`. */
  maxRounds?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** BatchGetItem takes up to 100 keys, BatchWriteItem up to 25 requests. */
const READ_CHUNK = 100;
const WRITE_CHUNK = 25;

const chunks = <T>(items: T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

export function createDynamoDeliveredLedger(options: DynamoDeliveredLedgerOptions): DeliveredLedger {
  const { client, tableName: TableName } = options;
  const clock = options.clock ?? systemClock;
  const maxRounds = options.maxRounds ?? 5;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  if (!(options.ttlHours > 0))
    throw new Error(`ttlHours must be a positive number of hours, got ${options.ttlHours}`);
  const ttlSeconds = Math.round(options.ttlHours * 3600);

  /** `DLV#<channelId>#<id>` → the port's key string. */
  const byPk = (list: DeliveredKey[]) => new Map(list.map((k) => [keys.delivered(k.channelId, k.id).pk, k]));

  return {
    async findDelivered(list) {
      const found = new Set<string>();
      const nowSeconds = Math.floor(clock.now().getTime() / 1000);
      const index = byPk(list);
      for (const chunk of chunks([...index.keys()], READ_CHUNK)) {
        let pending: Record<string, unknown>[] = chunk.map((pk) => ({ pk, sk: 'DELIVERED' }));
        for (let round = 0; pending.length; round++) {
          if (round === maxRounds) {
            throw retryable(
              'ledger_unavailable',
              `${pending.length} delivered-ledger read(s) stayed unprocessed`,
            );
          }
          if (round > 0) await sleep(50 * 2 ** round);
          const res = await client.send(
            new BatchGetCommand({
              RequestItems: {
                [TableName]: {
                  Keys: pending,
                  ProjectionExpression: 'pk, #e',
                  ExpressionAttributeNames: { '#e': TTL_ATTRIBUTE },
                },
              },
            }),
          );
          for (const item of res.Responses?.[TableName] ?? []) {
            const key = index.get(String(item.pk));
            const expiresAt = Number(item[TTL_ATTRIBUTE]);
            if (key && expiresAt > nowSeconds) found.add(deliveredKeyOf(key));
          }
          pending = (res.UnprocessedKeys?.[TableName]?.Keys ?? []) as Record<string, unknown>[];
        }
      }
      return found;
    },

    async record(list, at) {
      const atIso = at.toISOString();
      const expiresAt = Math.floor(at.getTime() / 1000) + ttlSeconds;
      const unique = [...byPk(list).values()];
      for (const chunk of chunks(unique, WRITE_CHUNK)) {
        let pending: Array<{ PutRequest: { Item: Record<string, unknown> } }> = chunk.map((k) => ({
          PutRequest: {
            Item: {
              ...keys.delivered(k.channelId, k.id),
              type: 'delivered',
              channelId: k.channelId,
              itemId: k.id,
              at: atIso,
              [TTL_ATTRIBUTE]: expiresAt,
            },
          },
        }));
        for (let round = 0; pending.length; round++) {
          if (round === maxRounds) {
            throw retryable(
              'ledger_unavailable',
              `${pending.length} delivered-ledger write(s) stayed unprocessed`,
            );
          }
          if (round > 0) await sleep(50 * 2 ** round);
          const res = await client.send(new BatchWriteCommand({ RequestItems: { [TableName]: pending } }));
          pending = (res.UnprocessedItems?.[TableName] ?? []) as typeof pending;
        }
      }
    },
  };
}
