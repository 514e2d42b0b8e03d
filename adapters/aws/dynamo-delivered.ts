/**
 * `DeliveredLedger` on the single table (layout in ./table.ts):
 * - delivered: one item per (channel, inbound id), `DLV#<channelId>#<id>` / `DELIVERED`, with
 *   `expiresAt` a few days ahead (DynamoDB TTL);
 * - pending: one item per held message in ONE partition, `DLVP` / `<held at ISO>#<channelId>#<id>`,
 *   carrying the message (brotli-compressed JSON, so a long DM stays near one write unit), so that the
 *   sweep reads the old ones with one Query in time order (an empty partition costs 0.5 RCU per sweep).
 *   Every entry lives for milliseconds (the publish), so the partition holds almost nothing; its
 *   writes are 2 per inbound message, far below a partition's 1,000 writes/s at this product's rates.
 *
 * The ordering rule and its crash timeline live with the port (core/inbound/delivered.ts): read, hold,
 * publish, record. Hence:
 * - reads are eventually consistent BatchGetItem (half the price of a strong read): a read that misses
 *   a record written a moment ago lets a duplicate through to SQS, where FIFO dedup (5 minutes,
 *   `<channelId>:<id>`) drops it;
 * - holds and records are unconditional BatchWriteItem puts (a record also deletes its pending entry
 *   in the same call): writing either twice is harmless, so a condition would cost the same write and
 *   decide nothing — whether an item may be published again is decided by its age (the port);
 * - DynamoDB deletes expired items lazily (up to days later), so a read also compares `expiresAt`
 *   with the clock: an item past its TTL counts as not delivered, exactly as the in-memory fake does.
 * Cost per delivered message: three writes (hold, record, drop: 1 WRU each up to 1 KB) plus half a
 * read unit, shared by up to 25 (writes) or 100 (reads) per call.
 */
import { brotliCompressSync, brotliDecompressSync } from 'node:zlib';
import {
  BatchGetCommand,
  BatchWriteCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { InboundMessage } from '../../contracts';
import { retryable } from '../../core/errors';
import {
  deliveredKeyOf,
  type DeliveredKey,
  type DeliveredLedger,
  type PendingEntry,
} from '../../core/inbound/delivered';
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

type WriteRequest =
  { PutRequest: { Item: Record<string, unknown> } } | { DeleteRequest: { Key: Record<string, unknown> } };

const PENDING_PK = keys.deliveredPending('', '', '').pk;

/** A held message's body, or null when it cannot be read (left to expire; nothing to publish). */
function readBody(body: unknown): InboundMessage | null {
  try {
    const bytes = body instanceof Uint8Array ? body : null;
    if (!bytes) return null;
    const message = JSON.parse(brotliDecompressSync(bytes).toString('utf8')) as InboundMessage;
    return typeof message?.channelId === 'string' && typeof message.id === 'string' ? message : null;
  } catch {
    return null;
  }
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

  /** BatchWriteItem in chunks, retrying unprocessed requests; throws `retryable` when some stay. */
  async function writeAll(requests: WriteRequest[], what: string) {
    for (const chunk of chunks(requests, WRITE_CHUNK)) {
      let pending = chunk;
      for (let round = 0; pending.length; round++) {
        if (round === maxRounds) {
          throw retryable(
            'ledger_unavailable',
            `${pending.length} delivered-ledger ${what}(s) stayed unprocessed`,
          );
        }
        if (round > 0) await sleep(50 * 2 ** round);
        const res = await client.send(new BatchWriteCommand({ RequestItems: { [TableName]: pending } }));
        pending = (res.UnprocessedItems?.[TableName] ?? []) as WriteRequest[];
      }
    }
  }

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
      const puts: WriteRequest[] = [...byPk(list).values()].map((k) => ({
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
      const drops = new Map<string, WriteRequest>();
      for (const k of list) {
        if (!k.pendingAt) continue;
        const key = keys.deliveredPending(k.pendingAt.toISOString(), k.channelId, k.id);
        drops.set(key.sk, { DeleteRequest: { Key: key } });
      }
      await writeAll([...puts, ...drops.values()], 'write');
    },

    async hold(messages, at) {
      const atIso = at.toISOString();
      const expiresAt = Math.floor(at.getTime() / 1000) + ttlSeconds;
      const items = new Map<string, WriteRequest>();
      for (const m of messages) {
        const key = keys.deliveredPending(atIso, m.channelId, m.id);
        items.set(key.sk, {
          PutRequest: {
            Item: {
              ...key,
              type: 'pending',
              channelId: m.channelId,
              itemId: m.id,
              at: atIso,
              body: brotliCompressSync(Buffer.from(JSON.stringify(m))),
              [TTL_ATTRIBUTE]: expiresAt,
            },
          },
        });
      }
      await writeAll([...items.values()], 'hold');
    },

    async pending(before, limit) {
      const now = clock.now();
      const nowSeconds = Math.floor(now.getTime() / 1000);
      // held within the TTL, at or before `before` (an ISO prefix sorts in time order)
      const from = new Date(now.getTime() - ttlSeconds * 1000).toISOString();
      const to = `${before.toISOString()}#\uffff`;
      const out: PendingEntry[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const res = await client.send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: { ':pk': PENDING_PK, ':from': from, ':to': to },
            Limit: limit - out.length,
            ExclusiveStartKey: start,
          }),
        );
        for (const item of res.Items ?? []) {
          if (!(Number(item[TTL_ATTRIBUTE]) > nowSeconds)) continue;
          const message = readBody(item.body);
          if (message) out.push({ message, at: new Date(String(item.at)) });
        }
        start = res.LastEvaluatedKey;
      } while (start && out.length < limit);
      return out;
    },
  };
}
