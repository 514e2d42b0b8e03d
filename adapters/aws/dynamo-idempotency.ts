/**
 * `IdempotencyStore` on the single table: one item per (channel, idempotency key) at
 * `pk = CH#<channelId>`, `sk = IDEM#<key>` (./table.ts). Every write is conditional, so two deliveries of
 * one command can never both hold the record, and an attempt whose lease was taken over can no longer
 * change it (the `owner` attribute is the fencing token).
 *
 * Each condition is built from named parts ({@link isAbsent}, {@link heldBy}); a failed one answers with the
 * item as it was (`ReturnValuesOnConditionCheckFailure: 'ALL_OLD'`, as Powertools' DynamoDBPersistenceLayer
 * does), so the caller learns who holds the record without a second read.
 *
 * Items expire through DynamoDB TTL `ttlDays` after the last write (default 7 days, documented in
 * docs/result-codes.md): a key reused after that is treated as new.
 *
 * The spend meter rides on the completion (`ride`): the command's X charges (counters and billed-today
 * markers, ./dynamo-spend.ts) go in the SAME request as the `completed` update, one `TransactWriteItems`
 * (./dynamo-write-ride.ts), so metering costs a send no request of its own and a charge is counted
 * exactly when its result is stored. A refused completion (another delivery holds the record) falls back
 * to the plain update below, which answers with the holder; the charges are then written by the meter
 * itself at the end of the command.
 */
import type { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { ResultMessage } from '../../contracts';
import type {
  IdempotencyClaim,
  IdempotencyRecord,
  IdempotencyStore,
  IdempotencyWrite,
} from '../../core/outbound/ports';
import { systemClock, type Clock } from '../../core/ports';
import { TRANSACT_MAX, writeWithRide, type WriteRide } from './dynamo-write-ride';
import { keys } from './table';

export interface DynamoIdempotencyStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Days a record is kept after its last write (DynamoDB TTL). @default 7 */
  ttlDays?: number;
  clock?: Clock;
  /** What rides on a completion (the spend meter's current scope), given the room left. */
  ride?: (channelId: string, room: number) => WriteRide | null;
  /** Waits between transaction-conflict retries of a ride (tests pass a no-op). */
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_IDEMPOTENCY_TTL_DAYS = 7;

/** One part of an expression with the attribute names and values it uses. */
interface ExpressionPart {
  expression: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
}

/** Condition: no record yet (a first claim). */
const isAbsent: ExpressionPart = { expression: 'attribute_not_exists(pk)', names: {}, values: {} };

/** Condition: `owner` still holds the record and it is still in progress (the fencing check of every write). */
const heldBy = (owner: string): ExpressionPart => ({
  expression: '#owner = :owner AND #state = :inProgress',
  names: { '#owner': 'owner', '#state': 'state' },
  values: { ':owner': owner, ':inProgress': 'in_progress' },
});

/** The request parameters of a conditional write: condition (+ update), their names and values, ALL_OLD. */
function conditioned(condition: ExpressionPart, update?: ExpressionPart) {
  const names = { ...condition.names, ...update?.names };
  const values = { ...condition.values, ...update?.values };
  return {
    ConditionExpression: condition.expression,
    ...(update ? { UpdateExpression: update.expression } : {}),
    ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
    ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  };
}

function toRecord(channelId: string, key: string, item: Record<string, unknown>): IdempotencyRecord {
  return {
    channelId,
    key,
    state: item.state as IdempotencyRecord['state'],
    bodyHash: item.bodyHash as string,
    owner: item.owner as string,
    leaseExpiresAt: item.leaseExpiresAt as string,
    attemptStartedAt: item.attemptStartedAt as string,
    uncertain: Boolean(item.uncertain),
    result: item.result ? (JSON.parse(item.result as string) as ResultMessage) : undefined,
  };
}

export function createDynamoIdempotencyStore({
  client,
  tableName,
  ttlDays = DEFAULT_IDEMPOTENCY_TTL_DAYS,
  clock = systemClock,
  ride,
  sleep = (ms) => new Promise<void>((r) => setTimeout(r, ms)),
}: DynamoIdempotencyStoreOptions): IdempotencyStore {
  const TableName = tableName;
  const expiresAt = () => Math.floor(clock.now().getTime() / 1000) + ttlDays * 86400;

  /** Runs a conditional write; a failed condition answers with the item as it was (ALL_OLD, marshalled). */
  async function conditional(
    channelId: string,
    key: string,
    write: () => Promise<unknown>,
  ): Promise<IdempotencyWrite> {
    try {
      await write();
      return { ok: true };
    } catch (e) {
      // by name: the SDK's error classes may come from another copy of the package than this import
      if ((e as Error)?.name !== 'ConditionalCheckFailedException') throw e;
      const item = (e as ConditionalCheckFailedException).Item;
      return { ok: false, current: item ? toRecord(channelId, key, unmarshall(item)) : null };
    }
  }

  return {
    async get(channelId, key) {
      const out = await client.send(
        new GetCommand({ TableName, Key: keys.idempotency(channelId, key), ConsistentRead: true }),
      );
      return out.Item ? toRecord(channelId, key, out.Item) : null;
    },

    claim(channelId, key, claim: IdempotencyClaim, expectedOwner) {
      return conditional(channelId, key, () =>
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
            ...conditioned(expectedOwner === null ? isAbsent : heldBy(expectedOwner)),
          }),
        ),
      );
    },

    async complete(channelId, key, owner, result) {
      const input = {
        TableName,
        Key: keys.idempotency(channelId, key),
        ...conditioned(heldBy(owner), {
          expression:
            'SET #state = :completed, #result = :result, xId = :xId, completedAt = :at, expiresAt = :ttl',
          names: { '#state': 'state', '#result': 'result' },
          values: {
            ':completed': 'completed',
            // Stored as a string: the exact result is re-emitted byte for byte on duplicates.
            ':result': JSON.stringify(result),
            ':xId': result.status === 'sent' ? result.xId : null,
            ':at': result.at,
            ':ttl': expiresAt(),
          },
        }),
      };
      const along = ride?.(channelId, TRANSACT_MAX - 1);
      if (along) {
        // the holder of a refused completion is learnt from the plain update below (ALL_OLD)
        const { ReturnValuesOnConditionCheckFailure: _unused, UpdateExpression, ...rest } = input;
        const update = { ...rest, UpdateExpression: UpdateExpression! };
        if (await writeWithRide(client, update, along, sleep)) return { ok: true };
      }
      return conditional(channelId, key, () => client.send(new UpdateCommand(input)));
    },

    release(channelId, key, owner) {
      return conditional(channelId, key, () =>
        client.send(
          new DeleteCommand({
            TableName,
            Key: keys.idempotency(channelId, key),
            ...conditioned(heldBy(owner)),
          }),
        ),
      );
    },

    markUncertain(channelId, key, owner, now) {
      return conditional(channelId, key, () =>
        client.send(
          new UpdateCommand({
            TableName,
            Key: keys.idempotency(channelId, key),
            ...conditioned(heldBy(owner), {
              expression: 'SET uncertain = :true, leaseExpiresAt = :now, expiresAt = :ttl',
              names: {},
              values: { ':true': true, ':now': now.toISOString(), ':ttl': expiresAt() },
            }),
          }),
        ),
      );
    },
  };
}
