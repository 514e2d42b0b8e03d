/**
 * `IdempotencyStore` on the single table: one item per (channel, idempotency key) at
 * `pk = CH#<channelId>`, `sk = IDEM#<key>` (./table.ts). Every write is conditional, so two deliveries of
 * one command can never both hold the record, and an attempt whose lease was taken over can no longer
 * change it (the `owner` attribute is the fencing token).
 *
 * Items expire through DynamoDB TTL `ttlDays` after the last write (default 7 days, documented in
 * docs/result-codes.md): a key reused after that is treated as new.
 */
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { ResultMessage } from '../../contracts';
import type { IdempotencyClaim, IdempotencyRecord, IdempotencyStore } from '../../core/outbound/ports';
import { systemClock, type Clock } from '../../core/ports';
import { keys } from './table';

export interface DynamoIdempotencyStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Days a record is kept after its last write (DynamoDB TTL). @default 7 */
  ttlDays?: number;
  clock?: Clock;
}

export const DEFAULT_IDEMPOTENCY_TTL_DAYS = 7;

const isConditionFailure = (e: unknown) => (e as Error)?.name === 'ConditionalCheckFailedException';

/** Runs a conditional write; `false` when its condition did not hold. */
async function conditional(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}

export function createDynamoIdempotencyStore({
  client,
  tableName,
  ttlDays = DEFAULT_IDEMPOTENCY_TTL_DAYS,
  clock = systemClock,
}: DynamoIdempotencyStoreOptions): IdempotencyStore {
  const TableName = tableName;
  const expiresAt = () => Math.floor(clock.now().getTime() / 1000) + ttlDays * 86400;

  return {
    async get(channelId, key) {
      const out = await client.send(
        new GetCommand({ TableName, Key: keys.idempotency(channelId, key), ConsistentRead: true }),
      );
      const item = out.Item;
      if (!item) return null;
      return {
        channelId,
        key,
        state: item.state,
        bodyHash: item.bodyHash,
        owner: item.owner,
        leaseExpiresAt: item.leaseExpiresAt,
        attemptStartedAt: item.attemptStartedAt,
        uncertain: Boolean(item.uncertain),
        result: item.result ? (JSON.parse(item.result) as ResultMessage) : undefined,
      } satisfies IdempotencyRecord;
    },

    claim(channelId, key, claim: IdempotencyClaim, expectedOwner) {
      return conditional(() =>
        client.send(
          new PutCommand({
            TableName,
            Item: {
              ...keys.idempotency(channelId, key),
              type: 'IDEM',
              state: 'in_progress',
              ...claim,
              expiresAt: expiresAt(),
            },
            // Take over only the exact record we looked at (same holder, still in progress).
            ...(expectedOwner === null
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : {
                  ConditionExpression: '#owner = :expected AND #state = :inProgress',
                  ExpressionAttributeNames: { '#owner': 'owner', '#state': 'state' },
                  ExpressionAttributeValues: { ':expected': expectedOwner, ':inProgress': 'in_progress' },
                }),
          }),
        ),
      );
    },

    complete(channelId, key, owner, result) {
      return conditional(() =>
        client.send(
          new UpdateCommand({
            TableName,
            Key: keys.idempotency(channelId, key),
            UpdateExpression:
              'SET #state = :completed, #result = :result, xId = :xId, completedAt = :at, expiresAt = :ttl',
            ConditionExpression: '#owner = :owner AND #state = :inProgress',
            ExpressionAttributeNames: { '#owner': 'owner', '#state': 'state', '#result': 'result' },
            ExpressionAttributeValues: {
              ':completed': 'completed',
              ':inProgress': 'in_progress',
              // Stored as a string: the exact result is re-emitted byte for byte on duplicates.
              ':result': JSON.stringify(result),
              ':xId': result.status === 'sent' ? result.xId : null,
              ':at': result.at,
              ':ttl': expiresAt(),
              ':owner': owner,
            },
          }),
        ),
      );
    },

    release(channelId, key, owner) {
      return conditional(() =>
        client.send(
          new DeleteCommand({
            TableName,
            Key: keys.idempotency(channelId, key),
            ConditionExpression: '#owner = :owner AND #state = :inProgress',
            ExpressionAttributeNames: { '#owner': 'owner', '#state': 'state' },
            ExpressionAttributeValues: { ':owner': owner, ':inProgress': 'in_progress' },
          }),
        ),
      );
    },

    markUncertain(channelId, key, owner, now) {
      return conditional(() =>
        client.send(
          new UpdateCommand({
            TableName,
            Key: keys.idempotency(channelId, key),
            UpdateExpression: 'SET uncertain = :true, leaseExpiresAt = :now, expiresAt = :ttl',
            ConditionExpression: '#owner = :owner AND #state = :inProgress',
            ExpressionAttributeNames: { '#owner': 'owner', '#state': 'state' },
            ExpressionAttributeValues: {
              ':true': true,
              ':now': now.toISOString(),
              ':ttl': expiresAt(),
              ':owner': owner,
              ':inProgress': 'in_progress',
            },
          }),
        ),
      );
    },
  };
}
