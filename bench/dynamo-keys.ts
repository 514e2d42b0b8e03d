/**
 * Which DynamoDB items a request touches, by partition key, and whether it exists only for the spend
 * meter (issue 20): a request whose every key is a spend item — a channel's counters and budget
 * (`COST#<channelId>`), the app's budget and counter shards (`COSTAPP`, `COSTAPP#<shard>`), billed-today
 * markers (`SEEN#…`) — is the meter's own; the meter's writes that ride on a poll's own final write
 * (one `TransactWriteItems` with the channel item) are not. Shared by the bench's counting clients
 * (bench/counting.ts) and the meter's integration test.
 */

type AttrValue = string | { S?: string } | undefined;
type Input = Record<string, any>;

const pkOf = (item: Record<string, unknown> | undefined): string | undefined => {
  const pk = item?.pk as AttrValue;
  return typeof pk === 'string' ? pk : pk?.S;
};

/** The partition keys one request writes or reads (a query: its `:pk`), in request order; `?` when unknown. */
export function keysOf(command: string, input: Input): string[] {
  if (command === 'TransactWriteItemsCommand')
    return (input.TransactItems ?? []).map((t: Input) => {
      const part = t.Put ?? t.Update ?? t.Delete ?? t.ConditionCheck;
      return pkOf(part?.Item ?? part?.Key) ?? '?';
    });
  if (command === 'TransactGetItemsCommand')
    return (input.TransactItems ?? []).map((t: Input) => pkOf(t.Get?.Key) ?? '?');
  if (command === 'BatchWriteItemCommand')
    return Object.values(input.RequestItems ?? {}).flatMap((reqs) =>
      (reqs as Input[]).map((r) => pkOf(r.PutRequest?.Item ?? r.DeleteRequest?.Key) ?? '?'),
    );
  if (command === 'BatchGetItemCommand')
    return Object.values(input.RequestItems ?? {}).flatMap((r) =>
      ((r as { Keys?: Array<Record<string, unknown>> }).Keys ?? []).map((k) => pkOf(k) ?? '?'),
    );
  if (command === 'QueryCommand') {
    if (input.IndexName) return [`index:${input.IndexName}`];
    const values = (input.ExpressionAttributeValues ?? {}) as Record<string, AttrValue>;
    const pk = values[':pk'];
    return [(typeof pk === 'string' ? pk : pk?.S) ?? '?'];
  }
  return [pkOf(input.Item ?? input.Key) ?? '?'];
}

/** A spend item's partition key: counters, budgets, billed-today markers. */
export const isSpendKey = (pk: string): boolean =>
  pk.startsWith('COST#') || pk === 'COSTAPP' || pk.startsWith('COSTAPP#') || pk.startsWith('SEEN#');

/** True when the request touches spend items only: one the meter makes on its own. */
export const isMeterOnly = (keys: readonly string[]): boolean => keys.length > 0 && keys.every(isSpendKey);
