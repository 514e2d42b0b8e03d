/**
 * `OAuthStateStore` on the single table (`STATE#<state>` / `STATE`). A state is consumed by a
 * delete that returns the old item: DynamoDB applies it once, so of two concurrent callbacks with
 * the same state exactly one gets the record. The delete is conditional on the browser binding
 * (stored hash null or equal to the caller's), so a callback from another browser is refused by
 * DynamoDB itself and the item stays for the admin's own callback; the refused delete returns the
 * item (`ReturnValuesOnConditionCheckFailure: ALL_OLD`) so nobody re-reads it. `expiresAt` is the
 * TTL attribute; TTL deletes late, so callers also check it on read.
 */
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { OAuthStateRecord, OAuthStateStore } from '../../core/oauth';
import { keys, refusedItem } from './table';

const toRecord = (a: Record<string, unknown>): OAuthStateRecord => ({
  state: String(a.state),
  channelId: String(a.channelId),
  adminSub: String(a.adminSub),
  codeVerifier: String(a.codeVerifier),
  redirectUri: String(a.redirectUri),
  scopes: Array.isArray(a.scopes) ? a.scopes.map(String) : [],
  browserBindingHash: typeof a.browserBindingHash === 'string' ? a.browserBindingHash : null,
  createdAt: String(a.createdAt),
  expiresAt: Number(a.expiresAt),
});

export function createDynamoOAuthStateStore(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
}): OAuthStateStore {
  const { client, tableName: TableName } = options;
  return {
    async put(record) {
      await client.send(
        new PutCommand({
          TableName,
          Item: { ...keys.oauthState(record.state), type: 'oauth_state', ...record },
          // 256 random bits never collide; the condition makes a bug loud instead of overwriting
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    },
    async consume(state, browserBindingHash) {
      // binding off when the sign-in started (hash absent or null), or the caller's hash matches
      const unbound = 'attribute_not_exists(#bb) OR attribute_type(#bb, :null)';
      try {
        const res = await client.send(
          new DeleteCommand({
            TableName,
            Key: keys.oauthState(state),
            ConditionExpression: browserBindingHash ? `${unbound} OR #bb = :bb` : unbound,
            ExpressionAttributeNames: { '#bb': 'browserBindingHash' },
            ExpressionAttributeValues: {
              ':null': 'NULL',
              ...(browserBindingHash ? { ':bb': browserBindingHash } : {}),
            },
            ReturnValues: 'ALL_OLD',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return res.Attributes ? { record: toRecord(res.Attributes), consumed: true } : null;
      } catch (e) {
        if ((e as Error)?.name !== 'ConditionalCheckFailedException') throw e;
        const item = refusedItem(e);
        if (!item) throw e;
        return { record: toRecord(item), consumed: false };
      }
    },
  };
}
