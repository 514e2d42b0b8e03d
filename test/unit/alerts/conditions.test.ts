/**
 * Which alert conditions hold (core/alerts/conditions.ts) and how usual traffic is learned
 * (core/alerts/inputs.ts): one row per condition, and the cases that must not alert.
 */
import { alertConditions, type AlertInputs, type ChannelSnapshot } from '../../../core/alerts/conditions';
import { inboundCount, usualDailyInbound } from '../../../core/alerts/inputs';
import type { SpendDay } from '../../../core/cost/meter';
import { budgetStatus } from '../../../core/cost/report';

const NOW = new Date('2026-12-07T12:00:00Z');

const channel = (overrides: Partial<ChannelSnapshot> = {}): ChannelSnapshot => ({
  id: 'ch_a',
  name: null,
  status: 'active',
  statusReason: null,
  account: { id: '1', username: 'acme', name: 'Acme', avatarUrl: null },
  listenMentions: true,
  listenDms: true,
  connectedAt: '2026-11-01T00:00:00Z',
  realtime: undefined,
  realtimeLastEventAt: '2026-12-07T11:59:00Z',
  health: {},
  ...overrides,
});

/** A channel's last X error: `credits_depleted` at 11:00 with X's message (the usage cap is told by it). */
const creditsDepleted = (message: string) => ({
  code: 'credits_depleted',
  kind: 'permanent' as const,
  message,
  at: '2026-12-07T11:00:00Z',
});

const inputs = (overrides: Partial<AlertInputs> = {}): AlertInputs => ({
  now: NOW,
  channels: [channel()],
  budgets: { app: null, channels: new Map() },
  webhook: null,
  dlqs: [],
  dailyInbound: new Map(),
  settings: { silenceHours: 6, minDailyInbound: 10 },
  ...overrides,
});

const ids = (i: AlertInputs) => alertConditions(i).map((c) => c.id);

describe('alert conditions', () => {
  it('a healthy deployment has none', () => {
    expect(ids(inputs())).toEqual([]);
  });

  it.each([
    [
      'needs_reauth',
      { channels: [channel({ status: 'needs_reauth', statusReason: 'X rejected the access token' })] },
      ['needs_reauth:ch_a'],
    ],
    [
      'credits depleted since the last good poll',
      {
        channels: [
          channel({
            status: 'degraded',
            health: {
              lastError: creditsDepleted('X API credits are depleted'),
              lastSuccessAt: '2026-12-07T10:00:00Z',
            },
          }),
        ],
      },
      ['credits_depleted:app'],
    ],
    [
      // the cap is on Post reads (X-API.md): a command X accepted says nothing about it
      'the monthly usage cap, with commands sent since but no good poll',
      {
        channels: [
          channel({
            status: 'degraded',
            health: {
              lastError: creditsDepleted('X monthly usage cap reached for this app'),
              lastSuccessAt: '2026-12-07T10:00:00Z',
              lastSentAt: '2026-12-07T11:30:00Z',
            },
          }),
        ],
      },
      ['credits_depleted:app'],
    ],
    [
      'real time lost (subscription limit)',
      {
        channels: [
          channel({
            realtime: {
              state: 'off',
              reasonCode: 'subscription_limit',
              reason: 'limit',
              mentions: false,
              dms: false,
              subscriptions: [],
              checkedAt: '2026-12-07T11:00:00Z',
            },
          }),
        ],
      },
      ['realtime_lost:ch_a'],
    ],
    [
      'webhook invalid after having been valid',
      { webhook: { validAt: '2026-12-07T11:50:00.000Z', lastTickAt: '2026-12-07T11:59:00.000Z' } },
      ['webhook_invalid:app'],
    ],
    [
      'a DLQ with messages',
      {
        dlqs: [
          { queue: 'outbound', messages: 2 },
          { queue: 'inbound', messages: 0 },
        ],
      },
      ['dlq_not_empty:outbound'],
    ],
    [
      'budgets at 80 % (app) and 100 % (channel)',
      { budgets: { app: budgetStatus(10, 8.5), channels: new Map([['ch_a', budgetStatus(5, 5)]]) } },
      ['budget_warning:app', 'budget_warning:ch_a', 'budget_exhausted:ch_a'],
    ],
    [
      'silent for 6 h on a channel that usually gets 40 a day',
      {
        channels: [
          channel({
            realtimeLastEventAt: '2026-12-07T05:00:00Z',
            health: { lastDeliveredAt: '2026-12-07T04:00:00Z' },
          }),
        ],
        dailyInbound: new Map([['ch_a', 40]]),
      },
      ['inbound_silent:ch_a'],
    ],
  ] as Array<[string, Partial<AlertInputs>, string[]]>)('%s', (_name, overrides, expected) => {
    expect(ids(inputs(overrides))).toEqual(expected);
  });

  it.each([
    [
      'credits_depleted followed by a good poll',
      {
        channels: [
          channel({
            health: {
              lastError: creditsDepleted('x'),
              lastSuccessAt: '2026-12-07T11:30:00Z',
            },
          }),
        ],
      },
    ],
    [
      'credits_depleted followed by a command X accepted (a channel that is not polled)',
      {
        channels: [
          channel({
            health: {
              lastError: creditsDepleted('x'),
              lastSuccessAt: null,
              lastSentAt: '2026-12-07T11:05:00Z',
            },
          }),
        ],
      },
    ],
    [
      'real time off by choice or plan',
      {
        channels: [
          channel({
            realtime: {
              state: 'off',
              reasonCode: 'plan_without_xaa',
              reason: 'plan',
              mentions: false,
              dms: false,
              subscriptions: [],
              checkedAt: '2026-12-07T11:00:00Z',
            },
          }),
        ],
      },
    ],
    [
      'a webhook that was never valid (no real time in this deployment)',
      { webhook: { validAt: null, lastTickAt: '2026-12-07T11:59:00Z' } },
    ],
    [
      'a quiet channel (below the minimum traffic)',
      {
        channels: [channel({ realtimeLastEventAt: '2026-12-06T00:00:00Z' })],
        dailyInbound: new Map([['ch_a', 3]]),
      },
    ],
    [
      'a busy channel silent for less than N hours',
      {
        channels: [channel({ realtimeLastEventAt: '2026-12-07T07:00:00Z' })],
        dailyInbound: new Map([['ch_a', 400]]),
      },
    ],
    [
      'a paused channel that is silent',
      {
        channels: [channel({ status: 'paused', realtimeLastEventAt: '2026-12-01T00:00:00Z' })],
        dailyInbound: new Map([['ch_a', 400]]),
      },
    ],
    ['a budget at 79 %', { budgets: { app: budgetStatus(100, 79), channels: new Map() } }],
  ] as Array<[string, Partial<AlertInputs>]>)('no alert for %s', (_name, overrides) => {
    expect(ids(inputs(overrides))).toEqual([]);
  });

  it('every text names the channel and says what to do, never a token', () => {
    const [c] = alertConditions(
      inputs({
        channels: [channel({ status: 'needs_reauth', statusReason: 'X refused the refresh token' })],
      }),
    );
    expect(c.title).toBe('@acme: sign in with X again');
    expect(c.text).toMatch(/signs the account in again/);
  });
});

describe('usual traffic', () => {
  it('counts reads and delivered events, not writes', () => {
    expect(
      inboundCount({ counts: { postRead: 3, dmEventRead: 2, 'ev:dm.received': 4, reply: 7, userRead: 1 } }),
    ).toBe(9);
  });

  it('averages the last 14 full days (fewer since the sign-in), today excluded', () => {
    const days: SpendDay[] = [
      { day: '2026-12-06', micros: 0, counts: { postRead: 20 } },
      { day: '2026-12-05', micros: 0, counts: { 'ev:post.mention.create': 8 } },
      { day: '2026-12-07', micros: 0, counts: { postRead: 1000 } },
      { day: '2026-11-01', micros: 0, counts: { postRead: 1000 } },
    ];
    expect(usualDailyInbound(days, NOW, '2026-01-01T00:00:00Z')).toBeCloseTo(28 / 14);
    expect(usualDailyInbound(days, NOW, '2026-12-05T09:00:00Z')).toBe(14);
  });
});
