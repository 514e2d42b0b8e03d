/**
 * The whole-cost model (bench/cost-model.ts) over fixed inputs: fewer messages per poll cost more per
 * message, every modelled item is in the deployment's floor, and an idle channel with real time on
 * polls far less than one on a plan without XAA. Behaviour of the arithmetic, not prices.
 */
import { costModel, fixedMonthly } from '../../bench/cost-model';
import { AWS_PRICES, X_PRICES } from '../../bench/prices';
import { DEFAULT_RECONCILE_CADENCE } from '../../core/inbound/planner';

const batch = (messages: number, invocations: number, usdPerMillion: number) => ({
  messages,
  invocations,
  usdPerMillion,
  logBytesPerMessage: 400,
});

const inputs = {
  batches: { '1': batch(20, 22, 30), '10': batch(200, 22, 4), '100': batch(2000, 22, 0.6) },
  idle: { usdPerPoll: 0.000002, invocationsPerPoll: 1.05, logBytesPerPoll: 900, pollsPerMonth: 43_200 },
  realtime: { awsUsdPerMillionEvents: 5, webhookRequests: 100, delivered: 100, logBytesPerEvent: 700 },
  xPollingIdleUsd: 3,
  initMs: { api: 150, dispatcher: 100, poller: 150, sender: 150, webhook: 120 },
};

describe('bench whole-cost model', () => {
  it('charges more per message when a poll carries fewer, and more than the measured requests alone', () => {
    const out = costModel(inputs) as Record<string, number>;
    expect(out.usdPerMillionInboundAt1).toBeGreaterThan(out.usdPerMillionInboundAt10);
    expect(out.usdPerMillionInboundAt10).toBeGreaterThan(out.usdPerMillionInboundAt100);
    expect(out.usdPerMillionInboundAt100).toBeGreaterThan(0.6);
    // per event: the measured requests plus API Gateway, logs and a trace
    expect(out.usdPerMillionRealtimeEvents).toBeGreaterThan(5 + AWS_PRICES.apiGatewayHttpPerRequest * 1e6);
  });

  it('puts every modelled fixed item in the floor', () => {
    const fixed = fixedMonthly(inputs.initMs);
    expect(Object.keys(fixed).sort()).toEqual(
      [
        'alarms',
        'customMetrics',
        'dispatcherTicks',
        'eventSourceIdlePolling',
        'kmsKeys',
        'kmsRequests',
        'lambdaInit',
        'ledgerSweep',
        'realtimeSweep',
        'schedule',
      ].sort(),
    );
    for (const v of Object.values(fixed)) expect(v).toBeGreaterThan(0);
    expect(fixed.kmsKeys).toBe(2 * AWS_PRICES.kmsKeyPerMonth);
    // one empty Query of the pending partition a minute
    expect(fixed.ledgerSweep).toBeCloseTo(((30 * 24 * 60 * 0.5) / 1e6) * 0.125, 6);
    const out = costModel(inputs) as Record<string, number>;
    const sum = Object.values(fixed).reduce((a, v) => a + v, 0);
    expect(out.fixedUsdPerMonth).toBeCloseTo(sum, 2);
  });

  it('an idle real-time channel polls at the reconciliation cadence, a polled one every minute', () => {
    const out = costModel(inputs) as {
      idleChannelUsdPerMonth: number;
      idleChannelPollingUsdPerMonth: number;
      idleChannel: Record<string, number>;
    };
    expect(out.idleChannel.reconcilePollsPerMonth).toBe(
      (30 * 86_400) / DEFAULT_RECONCILE_CADENCE.mentionsSeconds,
    );
    // the product's DM reconciliation (every 6 h, a first page of 1 event) re-bills one DM event a UTC day
    expect(out.idleChannel.realtimeXUsd).toBeCloseTo(
      30 * DEFAULT_RECONCILE_CADENCE.dmIdlePageSize * X_PRICES.dmEventRead,
      4,
    );
    expect(out.idleChannel.pollingPollsPerMonth).toBe(43_200);
    expect(out.idleChannelPollingUsdPerMonth).toBeGreaterThan(out.idleChannelUsdPerMonth);
    // both include the token secret; the polled one X's daily DM re-billing
    expect(out.idleChannel.realtimeAwsUsd).toBeGreaterThan(AWS_PRICES.secretsManagerPerSecretMonth);
    expect(out.idleChannel.pollingXUsd).toBe(3);
    expect(out.idleChannel.realtimeDmDailyTotalUsd).toBeGreaterThan(out.idleChannelUsdPerMonth);
    // while the sweep proves DMs delivered (core/realtime/proof.ts) the DM reconciliation reads none
    expect(out.idleChannel.realtimeProvenXUsd).toBe(0);
    expect(out.idleChannelUsdPerMonth).toBeCloseTo(out.idleChannel.realtimeAwsUsd, 4);
    expect(out.idleChannel.realtimeUnprovenTotalUsd).toBeCloseTo(
      out.idleChannel.realtimeAwsUsd + out.idleChannel.realtimeXUsd,
      4,
    );
  });

  it('leaves a figure null when its input is missing', () => {
    const out = costModel({ ...inputs, idle: null, realtime: null, batches: {} }) as Record<string, unknown>;
    expect(out.idleChannelUsdPerMonth).toBeNull();
    expect(out.usdPerMillionInboundAt1).toBeNull();
    expect(out.usdPerMillionRealtimeEvents).toBeNull();
    expect(typeof out.fixedUsdPerMonth).toBe('number');
  });
});
