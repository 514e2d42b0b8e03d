/**
 * One write that carries another adapter's parts along: an `UpdateItem` sent as the first part of ONE
 * `TransactWriteItems` with the parts of a {@link WriteRide} (the spend meter's current scope,
 * lambdas/shared/spend.ts), so what rides costs no request of its own. Used by the poll's final write
 * (./dynamo-poll-state.ts) and an outbound command's completion (./dynamo-idempotency.ts).
 *
 * When the update itself is refused (its condition, a missing map) the caller writes it alone, as it
 * would without a ride, and the ride's items stay with their owner (the meter writes them at the end of
 * the invocation). Parts refused because another container already billed a resource today are dropped
 * and the transaction sent again; a conflict on a shared counter is retried after a short wait.
 */
import { TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** DynamoDB's limit of parts per `TransactWriteItems`. */
export const TRANSACT_MAX = 100;

type TransactItems = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>;
type UpdatePart = NonNullable<TransactItems[number]['Update']>;

/** Parts that ride on another write (the spend meter's `MeterRide`). */
export interface WriteRide {
  parts(): TransactItems;
  /** The transaction committed: these items are counted and leave their owner. */
  committed(): void;
  /** True when the parts changed after a cancellation (billed elsewhere) and may be sent again. */
  billedElsewhere(reasons: Array<{ Code?: string } | undefined>): boolean;
  /** The outcome is unknown (the error is rethrown): the items leave their owner uncounted, never written twice. */
  lost(error: unknown): void;
}

/**
 * Sends `update` with the ride's parts in one transaction. True when it committed; false when the
 * caller should send `update` alone (nothing was written). Throws what the plain update would throw
 * on a failure of unknown outcome (then the ride is `lost`).
 */
export async function writeWithRide(
  client: DynamoDBDocumentClient,
  update: UpdatePart,
  ride: WriteRide,
  sleep: (ms: number) => Promise<void>,
): Promise<boolean> {
  for (let attempt = 0; attempt < 4; attempt++) {
    const parts = ride.parts();
    if (!parts.length) {
      ride.committed(); // every item was billed today already: nothing to count
      return false;
    }
    try {
      await client.send(new TransactWriteCommand({ TransactItems: [{ Update: update }, ...parts] }));
      ride.committed();
      return true;
    } catch (e) {
      const name = (e as Error)?.name;
      if (name !== 'TransactionCanceledException') {
        // refused as a whole, nothing written: the plain update says why
        if (name === 'ValidationException') return false;
        ride.lost(e);
        throw e;
      }
      const reasons = (e as { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons ?? [];
      const own = reasons[0]?.Code;
      if (own && own !== 'None') return false;
      if (ride.billedElsewhere(reasons.slice(1))) continue;
      // a conflict with another transaction on a shared counter: shortly again
      await sleep(20 * 2 ** attempt + Math.floor(Math.random() * 20));
    }
  }
  return false;
}
