/**
 * `LeaseStore` on the single table (`CH#<channelId>` / `LEASE#<name>`): acquiring is a conditional
 * put that succeeds only when no lease exists or the existing one expired; releasing is a delete
 * conditional on the owner, so a holder whose lease expired cannot release its successor's.
 */
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../../core/ports';
import { systemClock } from '../../core/ports';
import type { LeaseStore } from '../../core/tokens';
import { keys } from './table';

const isConditionFailure = (e: unknown) => (e as Error)?.name === 'ConditionalCheckFailedException';

export function createDynamoLeaseStore(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
}): LeaseStore {
  const { client, tableName: TableName, clock = systemClock } = options;
  return {
    async acquire(channelId, name, owner, ttlMs) {
      const now = clock.now().getTime();
      try {
        await client.send(
          new PutCommand({
            TableName,
            Item: {
              ...keys.lease(channelId, name),
              type: 'lease',
              owner,
              leaseUntilMs: now + ttlMs,
              // TTL (epoch seconds) only cleans up; correctness rests on leaseUntilMs
              expiresAt: Math.ceil((now + ttlMs) / 1000) + 3600,
            },
            ConditionExpression: 'attribute_not_exists(pk) OR leaseUntilMs < :now',
            ExpressionAttributeValues: { ':now': now },
          }),
        );
        return true;
      } catch (e) {
        if (isConditionFailure(e)) return false;
        throw e;
      }
    },
    async release(channelId, name, owner) {
      try {
        await client.send(
          new DeleteCommand({
            TableName,
            Key: keys.lease(channelId, name),
            ConditionExpression: '#owner = :o',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':o': owner },
          }),
        );
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
      }
    },
  };
}
