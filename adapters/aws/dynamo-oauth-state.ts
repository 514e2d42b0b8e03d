/**
 * `OAuthStateStore` on the single table (`STATE#<state>` / `STATE`). A state is consumed by a
 * delete that returns the old item: DynamoDB applies it once, so of two concurrent callbacks with
 * the same state exactly one gets the record. `expiresAt` is the TTL attribute; TTL deletes late,
 * so callers also check it on read.
 */
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { OAuthStateStore } from '../../core/oauth';
import { keys } from './table';

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
    async consume(state) {
      const res = await client.send(
        new DeleteCommand({ TableName, Key: keys.oauthState(state), ReturnValues: 'ALL_OLD' }),
      );
      if (!res.Attributes) return null;
      const a = res.Attributes;
      return {
        state: a.state,
        channelId: a.channelId,
        adminSub: a.adminSub,
        codeVerifier: a.codeVerifier,
        redirectUri: a.redirectUri,
        scopes: a.scopes ?? [],
        browserBindingHash: a.browserBindingHash ?? null,
        createdAt: a.createdAt,
        expiresAt: Number(a.expiresAt),
      };
    },
  };
}
