/**
 * Which alert conditions hold right now (issue 20, item 4): a pure function of what the evaluator read
 * (core/alerts/evaluate.ts). Each condition has a stable `id` (`<kind>:<scope>`): the evaluator fires an
 * alert once when its id appears and clears it once when the id is gone.
 *
 * | kind               | scope      | holds while |
 * |--------------------|------------|-------------|
 * | `credits_depleted` | app        | a channel's last X error is `credits_depleted` (402 credits, or the monthly usage cap) and no poll succeeded (or, for a 402, no command was sent) since |
 * | `budget_warning`   | channel/app| the month's X spend is ≥ 80 % of the monthly budget |
 * | `budget_exhausted` | channel/app| the month's X spend is ≥ 100 % of the monthly budget |
 * | `needs_reauth`     | channel    | the channel's status is `needs_reauth` |
 * | `realtime_lost`    | channel    | real time is off for a reason the admin did not choose (`webhook_missing`, `subscription_limit`, `x_error`) |
 * | `webhook_invalid`  | app        | the real-time watch's last tick found the deployment's webhook invalid at X (it had been valid) |
 * | `inbound_silent`   | channel    | nothing arrived for `silenceHours` on a listening channel that usually has ≥ `minDailyInbound` a day |
 * | `dlq_not_empty`    | queue      | a dead-letter queue holds messages |
 */
import type { Channel, ChannelStatus, RealtimeOffCode } from '../channel';
import type { BudgetStatus } from '../cost/report';

export const ALERT_KINDS = [
  'credits_depleted',
  'budget_warning',
  'budget_exhausted',
  'needs_reauth',
  'realtime_lost',
  'webhook_invalid',
  'inbound_silent',
  'dlq_not_empty',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export type AlertSeverity = 'warning' | 'critical';

/** A condition that holds: what an alert says about it. */
export interface AlertCondition {
  /** `<kind>:<scope>`, e.g. `needs_reauth:ch_7k2m`, `budget_warning:app`, `dlq_not_empty:outbound`. */
  id: string;
  kind: AlertKind;
  severity: AlertSeverity;
  /** The channel it is about; null for the app or a queue. */
  channelId: string | null;
  /** One line, plain English. */
  title: string;
  /** What happened and what to do, plain English (no secrets, no tokens). */
  text: string;
  /** Machine-readable facts (the console words them in its own language). */
  facts: Record<string, string | number | boolean | null>;
}

/** What the evaluator reads of a channel (the list index item). */
export type ChannelSnapshot = Pick<
  Channel,
  | 'id'
  | 'name'
  | 'status'
  | 'statusReason'
  | 'account'
  | 'listenMentions'
  | 'listenDms'
  | 'connectedAt'
  | 'realtime'
  | 'realtimeLastEventAt'
> & {
  health?: Partial<Pick<Channel['health'], 'lastError' | 'lastSuccessAt' | 'lastDeliveredAt' | 'lastSentAt'>>;
};

export interface AlertSettings {
  /** Hours without inbound before `inbound_silent` (1–168). */
  silenceHours: number;
  /** Inbound items a day (average of the last 14 full UTC days) below which a channel never alerts silent. */
  minDailyInbound: number;
}

export const DEFAULT_ALERT_SETTINGS: AlertSettings = { silenceHours: 6, minDailyInbound: 10 };

export interface AlertInputs {
  now: Date;
  channels: ChannelSnapshot[];
  /** Budget states of the app and of each channel that has a budget (others are absent). */
  budgets: { app: BudgetStatus | null; channels: ReadonlyMap<string, BudgetStatus> };
  /** The real-time watch's marks (null: real time never ran in this deployment). */
  webhook: { validAt: string | null; lastTickAt: string | null } | null;
  /** Messages on each dead-letter queue (visible + in flight), by queue role. */
  dlqs: ReadonlyArray<{ queue: string; messages: number }>;
  /** Average inbound items a day per channel, for the channels the evaluator looked up (silence candidates). */
  dailyInbound: ReadonlyMap<string, number>;
  settings: AlertSettings;
}

/** Real-time reasons that mean "lost", not "not wanted" or "not available on this plan". */
export const REALTIME_LOST_CODES: ReadonlySet<RealtimeOffCode> = new Set([
  'webhook_missing',
  'subscription_limit',
  'x_error',
]);

const LISTENING: ReadonlySet<ChannelStatus> = new Set(['active', 'degraded']);

/**
 * Whether a `credits_depleted` error is X's monthly usage cap (429 usage-capped, on Post reads), by the
 * message adapters/x/errors.ts gives it (test/integration/alerts/acceptance.test.ts reads it back).
 */
export const isReadCap = (e: { message: string }) => /usage cap/i.test(e.message);

const label = (c: ChannelSnapshot) =>
  c.account ? `@${c.account.username}` : c.name ? `"${c.name}"` : `channel ${c.id}`;

/** When the channel last received something: the webhook's last event or the last poll that delivered. */
export function lastInboundAt(c: ChannelSnapshot): string | null {
  const times = [c.realtimeLastEventAt, c.health?.lastDeliveredAt].filter((t): t is string => Boolean(t));
  return times.sort().pop() ?? null;
}

/**
 * The listening channels without inbound for `silenceHours` (counted from the sign-in when nothing
 * ever arrived): the candidates whose usual traffic the evaluator looks up.
 */
export function silenceCandidates(inputs: Pick<AlertInputs, 'now' | 'channels' | 'settings'>): string[] {
  const limitMs = inputs.settings.silenceHours * 3_600_000;
  return inputs.channels
    .filter((c) => LISTENING.has(c.status) && (c.listenMentions || c.listenDms))
    .filter((c) => {
      const since = lastInboundAt(c) ?? c.connectedAt;
      return since !== null && inputs.now.getTime() - Date.parse(since) >= limitMs;
    })
    .map((c) => c.id);
}

function budgetConditions(
  scope: { channelId: string | null; who: string },
  status: BudgetStatus,
): AlertCondition[] {
  const out: AlertCondition[] = [];
  if (status.monthlyUsd === null) return out;
  const key = scope.channelId ?? 'app';
  const facts = {
    channel: scope.channelId ? scope.who : null,
    monthlyBudgetUsd: status.monthlyUsd,
    usedUsd: status.usedUsd,
    usedPercent: status.usedPercent,
  };
  if (status.state === 'warning' || status.state === 'exhausted') {
    out.push({
      id: `budget_warning:${key}`,
      kind: 'budget_warning',
      severity: 'warning',
      channelId: scope.channelId,
      title: `${scope.who}: ${status.usedPercent}% of the monthly X budget used`,
      text: `${scope.who} has used $${status.usedUsd} of its $${status.monthlyUsd} monthly X budget (${status.usedPercent}%). At 100% outbound commands fail with budget_exhausted until the month rolls over or the budget is raised.`,
      facts,
    });
  }
  if (status.state === 'exhausted') {
    out.push({
      id: `budget_exhausted:${key}`,
      kind: 'budget_exhausted',
      severity: 'critical',
      channelId: scope.channelId,
      title: `${scope.who}: monthly X budget used up`,
      text: `${scope.who} has used its whole $${status.monthlyUsd} monthly X budget ($${status.usedUsd}). Outbound commands fail with budget_exhausted until the UTC month rolls over or the budget is raised.`,
      facts,
    });
  }
  return out;
}

/** Every condition that holds, in a stable order. */
export function alertConditions(inputs: AlertInputs): AlertCondition[] {
  const { settings } = inputs;
  const out: AlertCondition[] = [];

  // X credits and the usage cap belong to the app; any channel seeing them shows it
  const depleted = inputs.channels.filter((c) => {
    const e = c.health?.lastError;
    if (!e || e.code !== 'credits_depleted') return false;
    // a poll that succeeded since, or a command X accepted since (credits are the app's; the monthly
    // usage cap is on Post reads only, so only a poll ends that one)
    const sent = isReadCap(e) ? null : c.health?.lastSentAt;
    const ok = [c.health?.lastSuccessAt, sent].filter(Boolean).sort().pop();
    return !ok || ok < e.at;
  });
  if (depleted.length) {
    const message = depleted[0].health!.lastError!.message;
    out.push({
      id: 'credits_depleted:app',
      kind: 'credits_depleted',
      severity: 'critical',
      channelId: null,
      title: 'X refuses the app: credits depleted or monthly usage cap reached',
      text: `X answers "${message}". Nothing is read from or posted to X until the X developer account is topped up or the cap is raised; polling retries slowly. Channels seeing it: ${depleted.map(label).join(', ')}.`,
      facts: { channels: depleted.length, firstChannelId: depleted[0].id },
    });
  }

  if (inputs.budgets.app)
    out.push(...budgetConditions({ channelId: null, who: 'The app' }, inputs.budgets.app));

  if (
    inputs.webhook?.validAt &&
    inputs.webhook.lastTickAt &&
    inputs.webhook.lastTickAt > inputs.webhook.validAt
  ) {
    out.push({
      id: 'webhook_invalid:app',
      kind: 'webhook_invalid',
      severity: 'critical',
      channelId: null,
      title: 'Real time lost: X marks the webhook invalid',
      text: `X reports the deployment's /x/webhook as invalid since ${inputs.webhook.validAt} and re-validation failed: events do not arrive by webhook, reconciliation polling is the only path. Check that the webhook URL answers X's CRC (the X app's API key secret).`,
      facts: { validAt: inputs.webhook.validAt },
    });
  }

  const candidates = new Set(silenceCandidates(inputs));
  for (const c of inputs.channels) {
    if (c.status === 'needs_reauth') {
      out.push({
        id: `needs_reauth:${c.id}`,
        kind: 'needs_reauth',
        severity: 'critical',
        channelId: c.id,
        title: `${label(c)}: sign in with X again`,
        text: `${label(c)} stopped: ${c.statusReason ?? 'X refused its token'}. Nothing is read or sent for it until an admin signs the account in again.`,
        facts: { channel: label(c), reason: c.statusReason ?? null },
      });
    }
    const rt = c.realtime;
    if (
      rt?.state === 'off' &&
      rt.reasonCode &&
      REALTIME_LOST_CODES.has(rt.reasonCode) &&
      LISTENING.has(c.status)
    ) {
      out.push({
        id: `realtime_lost:${c.id}`,
        kind: 'realtime_lost',
        severity: 'warning',
        channelId: c.id,
        title: `${label(c)}: real time lost`,
        text: `${label(c)} receives by polling only: ${rt.reason ?? rt.reasonCode}. Messages still arrive, later.`,
        facts: { channel: label(c), reasonCode: rt.reasonCode },
      });
    }
    const usual = inputs.dailyInbound.get(c.id);
    if (candidates.has(c.id) && usual !== undefined && usual >= settings.minDailyInbound) {
      const last = lastInboundAt(c);
      out.push({
        id: `inbound_silent:${c.id}`,
        kind: 'inbound_silent',
        severity: 'warning',
        channelId: c.id,
        title: `${label(c)}: nothing received for ${settings.silenceHours} hours`,
        text: `${label(c)} usually receives about ${Math.round(usual)} mentions or DMs a day, but nothing arrived since ${last ?? c.connectedAt}. Check the channel's health and X's status.`,
        facts: {
          channel: label(c),
          lastInboundAt: last,
          usualPerDay: Math.round(usual * 10) / 10,
          hours: settings.silenceHours,
        },
      });
    }
    const budget = inputs.budgets.channels.get(c.id);
    if (budget) out.push(...budgetConditions({ channelId: c.id, who: label(c) }, budget));
  }

  for (const d of inputs.dlqs) {
    if (d.messages <= 0) continue;
    out.push({
      id: `dlq_not_empty:${d.queue}`,
      kind: 'dlq_not_empty',
      severity: 'warning',
      channelId: null,
      title: `${d.messages} message(s) on the ${d.queue} dead-letter queue`,
      text: `The ${d.queue} dead-letter queue holds about ${d.messages} message(s) that failed every retry. Read their reason, fix the cause and redrive them (docs/deploy.md).`,
      facts: { queue: d.queue, messages: d.messages },
    });
  }
  return out;
}
