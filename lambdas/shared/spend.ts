/**
 * The spend meter as the poller, the sender and the webhook compose it (core/cost/meter.ts): the X
 * client's response hook prices every answer, an `AsyncLocalStorage` scope says which channel the
 * invocation works for (a batch's records run concurrently), and the scope's end writes what it
 * collected with one ledger call. One storage serves every meter of the process: Node (22) runs each
 * enabled storage's hook on every promise created, for good, so a storage per composition made every
 * promise of a process that composes many times (the soak: ~5 containers a seed, ~900 by seed 175) slower,
 * and each promise larger. Metering never fails the work it watches: a failed write is logged
 * (and lost: the meter under-counts rather than double-counting on a retry).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { AwsClients } from '../../adapters/aws/clients';
import { createDynamoSpendLedger, type DynamoSpendLedger } from '../../adapters/aws/dynamo-spend';
import type { WriteRide } from '../../adapters/aws/dynamo-write-ride';
import type { XResponseSeen } from '../../adapters/x/client';
import { billableOfEvent, billablesOfCall, priceItem, type Billable } from '../../core/cost/billable';
import {
  SpendCollector,
  UNROUTED_CHANNEL,
  type SpendLedger,
  type SpendRecorded,
} from '../../core/cost/meter';
import { applyPriceOverride, X_PRICES, type XPriceTable } from '../../core/cost/prices';
import type { Clock } from '../../core/ports';
import type { XaaEvent } from '../../core/realtime/events';
import type { AccountDirectory } from '../../core/realtime/webhook';

export interface SpendConfig {
  TABLE_NAME: string;
  XC_X_PRICES?: string;
  X_APP_OWNER_USER_ID?: string;
}

export interface SpendMeter {
  prices: XPriceTable;
  ledger: SpendLedger;
  /** For the X clients' settings: prices each answer into the current scope. */
  onResponse(call: XResponseSeen): void;
  /**
   * Runs `work` for one channel; what its X calls cost is written once when it ends (also on a throw).
   * A function instead of an id names the channel from the work's result (the sign-in learns it from
   * the OAuth state); no channel (or a throw) counts on {@link UNROUTED_CHANNEL}.
   */
  within<T>(channelId: string | ((result: T) => string | undefined), work: () => Promise<T>): Promise<T>;
  /**
   * What the current scope collected for `channelId` so far, as at most `room` parts of the caller's
   * own `TransactWriteItems` (the poll's final write: adapters/aws/dynamo-poll-state.ts; a command's
   * completion: adapters/aws/dynamo-idempotency.ts), so the meter costs that invocation no request of
   * its own; null when there is nothing (or no room). A committed ride tells `onRecorded` as a scope's
   * write does. What the ride does not take, or a ride never committed, is written when the scope
   * ends, as before.
   */
  ride(channelId: string, room: number): MeterRide | null;
  /** Writes delivered XAA events (the webhook, once they are queued). */
  recordEvents(
    events: Array<{
      channelId: string;
      event: { event_type: string; event_uuid?: string; payload?: unknown };
    }>,
  ): Promise<SpendRecorded | null>;
}

/** A scope's spend riding on another write's transaction (see {@link SpendMeter.ride}). */
export type MeterRide = WriteRide;

interface Scope {
  /** The meter that opened it: a meter prices only into its own scopes. */
  meter: object;
  channelId: string;
  collector: SpendCollector;
  /** The scope this one was opened inside (another meter's, when compositions nest). */
  outer: Scope | undefined;
}

/** The process's one storage of meter scopes (see the header). */
const scopes = new AsyncLocalStorage<Scope>();

export function composeSpendMeter(options: {
  config: SpendConfig;
  clients: AwsClients;
  clock: Clock;
  log: Pick<Logger, 'warn'>;
  ledger?: SpendLedger & Partial<Pick<DynamoSpendLedger, 'ride'>>;
  /** Told what each scope's write counted (the sender's budget guard adds it to its estimate). */
  onRecorded?: (channelId: string, recorded: SpendRecorded) => void;
}): SpendMeter {
  const { config, clients, clock, log } = options;
  const prices = applyPriceOverride(X_PRICES, config.XC_X_PRICES);
  const ledger =
    options.ledger ?? createDynamoSpendLedger({ client: clients.doc, tableName: config.TABLE_NAME });
  /** This meter's identity in the shared storage. */
  const self = {};
  /** The innermost open scope of this meter, as a storage of its own would hold it. */
  const current = (): Scope | undefined => {
    let scope = scopes.getStore();
    while (scope && scope.meter !== self) scope = scope.outer;
    return scope;
  };
  const billableOptions = { appOwnerUserId: config.X_APP_OWNER_USER_ID };

  const flush = async (collector: SpendCollector, channelId: string): Promise<SpendRecorded | null> => {
    if (!collector.size) return null;
    try {
      const recorded = await collector.flush(ledger, clock.now());
      options.onRecorded?.(channelId, recorded);
      return recorded;
    } catch (e) {
      log.warn('spend meter: write failed, these X charges are not counted', {
        channelId,
        errorName: (e as Error)?.name,
      });
      return null;
    }
  };

  return {
    prices,
    ledger,
    onResponse(call) {
      const scope = current();
      if (!scope) return;
      try {
        const items = billablesOfCall(call, billableOptions).map((b) => priceItem(b, prices));
        scope.collector.add(scope.channelId, items, clock.now());
      } catch (e) {
        log.warn('spend meter: could not price an X answer', { errorName: (e as Error)?.name });
      }
    },
    async within<T>(channel: string | ((result: T) => string | undefined), work: () => Promise<T>) {
      const deferred = typeof channel === 'function';
      const scope: Scope = {
        meter: self,
        channelId: deferred ? UNROUTED_CHANNEL : channel,
        collector: new SpendCollector(),
        outer: scopes.getStore(),
      };
      let channelId = scope.channelId;
      try {
        const result = await scopes.run(scope, work);
        if (deferred) channelId = channel(result) ?? UNROUTED_CHANNEL;
        return result;
      } finally {
        if (channelId !== scope.channelId) scope.collector.rename(scope.channelId, channelId);
        await flush(scope.collector, channelId);
      }
    },
    ride(channelId, room) {
      const scope = current();
      if (!scope || scope.channelId !== channelId || !ledger.ride) return null;
      const group = scope.collector.first(channelId);
      if (!group) return null;
      const ride = ledger.ride(channelId, group.at ?? clock.now(), group.items, room);
      if (!ride) return null;
      return {
        parts: () => ride.parts(),
        billedElsewhere: (reasons) => ride.billedElsewhere(reasons),
        committed() {
          scope.collector.drop(group.key, ride.taken);
          const recorded = ride.committed();
          try {
            options.onRecorded?.(channelId, recorded);
          } catch (e) {
            log.warn('spend meter: could not tell what was counted', {
              channelId,
              errorName: (e as Error)?.name,
            });
          }
        },
        lost(e) {
          scope.collector.drop(group.key, ride.taken);
          log.warn('spend meter: write failed, these X charges are not counted', {
            channelId,
            errorName: (e as Error)?.name,
          });
        },
      };
    },
    async recordEvents(events) {
      const collector = new SpendCollector();
      for (const { channelId, event } of events) {
        const b: Billable | null = billableOfEvent(event, prices);
        if (b) collector.add(channelId, [priceItem(b, prices)]);
      }
      return flush(collector, events[0]?.channelId ?? '');
    },
  };
}

const ROUTE_TTL_MS = 300_000;

/**
 * The webhook's side of the meter: each delivered event is counted on the channel holding its account
 * (`filter.user_id`), or on {@link UNROUTED_CHANNEL} (X bills it all the same). Account → channel
 * answers are kept 5 minutes per container, so metering adds no read to a usual delivery. Never throws.
 */
export function meterDeliveredEvents(
  spend: SpendMeter,
  accounts: AccountDirectory,
  clock: Clock,
  log: Pick<Logger, 'warn'>,
): (events: XaaEvent[]) => Promise<void> {
  const routes = new Map<string, { channelId: string; until: number }>();
  const channelOf = async (accountId: string | undefined): Promise<string> => {
    if (!accountId) return UNROUTED_CHANNEL;
    const now = clock.now().getTime();
    const hit = routes.get(accountId);
    if (hit && hit.until > now) return hit.channelId;
    const channelId = (await accounts.channelIdsFor(accountId))[0] ?? UNROUTED_CHANNEL;
    if (routes.size > 10_000) routes.clear();
    routes.set(accountId, { channelId, until: now + ROUTE_TTL_MS });
    return channelId;
  };
  return async (events) => {
    try {
      const priced = events.filter((e) => e.event_type in spend.prices.events);
      if (!priced.length) return;
      const routed = [];
      for (const event of priced) routed.push({ channelId: await channelOf(event.filter?.user_id), event });
      await spend.recordEvents(routed);
    } catch (e) {
      log.warn('spend meter: delivered events not counted', { errorName: (e as Error)?.name });
    }
  };
}
