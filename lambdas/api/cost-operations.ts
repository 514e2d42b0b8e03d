/**
 * The cost routes (issue 20): a channel's X and AWS spend, budget state and plan advice
 * (`GET /channels/{id}/cost`), the app-wide settings with the app's monthly X budget and the app's cost
 * (`GET|PATCH /settings`), and the channel budget field of `PATCH /channels/{id}` — computed from the
 * spend meter's counters (core/cost/report.ts).
 */
import { appCostReport, channelCostReport } from '../../core/cost/report';
import { monthWindow } from '../../core/cost/meter';
import { getChannel } from '../../core/channels';
import { invalidInput } from '../../core/errors';
import { planPollInterval, TIER_WINDOWS } from '../../core/inbound/planner';
import type { Channel } from '../../core/channel';
import type { ApiDeps } from './compose';
import {
  channelIdParam,
  json,
  parseOrThrow,
  readJsonBody,
  type ApiOperationId,
  type Operation,
  type RouteContext,
} from './operations';
import { patchSettingsBodySchema } from './schemas';
import { serializeChannel } from './serialize';

type CostOperationId = Extract<ApiOperationId, 'getChannelCost' | 'getSettings' | 'patchSettings'>;

/** The steady interval the channel is polled at (the shorter of its streams), or null when it is not. */
export function pollIntervalOf(
  deps: ApiDeps,
  channel: Pick<Channel, 'listenMentions' | 'listenDms'>,
): number | null {
  const i = planPollInterval(TIER_WINDOWS[deps.config.X_TIER]);
  const streams = [
    channel.listenMentions ? i.mentionsSeconds : null,
    channel.listenDms ? i.dmsSeconds : null,
  ];
  const on = streams.filter((s): s is number => s !== null);
  return on.length ? Math.min(...on) : null;
}

function spendOf(deps: ApiDeps) {
  if (!deps.spend) throw new Error('the spend meter is not composed');
  return deps.spend;
}

/** The sign-in's X calls metered (`users/me`, a user read) on the channel the OAuth state names. */
export function meteredSignIn<T extends { channelId?: string }>(deps: ApiDeps, work: () => Promise<T>) {
  const meter = deps.spend?.meter;
  return meter ? meter.within((outcome: T) => outcome.channelId, work) : work();
}

/**
 * A channel whose poller found its budget used up polls at the floor (core/cost/budget-floor.ts): after a
 * budget change it is made due now, so its next poll re-checks the budget and lifts the floor at once.
 */
async function recheckIfAtFloor(deps: ApiDeps, channel: Channel): Promise<void> {
  if (channel.health?.budget?.state !== 'exhausted' || !deps.spend?.makeDue) return;
  await deps.spend.makeDue(channel.id).catch((e: Error) =>
    deps.logger.warn('channel not made due after a budget change; it re-checks at its next floor poll', {
      channelId: channel.id,
      errorName: e?.name,
    }),
  );
}

/** Sets a channel's monthly X budget (the channel must exist). */
export async function setChannelBudget(ctx: RouteContext, id: string, usd: number | null): Promise<void> {
  const channel = await getChannel(ctx.deps, id);
  await spendOf(ctx.deps).budgets.set(id, usd);
  ctx.deps.logger.info('channel budget changed', { channelId: id, adminSub: ctx.sub, monthlyBudgetUsd: usd });
  await recheckIfAtFloor(ctx.deps, channel);
}

/** `PATCH /channels/{id}` with only `monthlyBudgetUsd`: the channel as it is, with its budget. */
export async function budgetOnlyAnswer(ctx: RouteContext, id: string, usd: number | null) {
  const channel = await getChannel(ctx.deps, id);
  return json(
    200,
    { ...serializeChannel(channel), monthlyBudgetUsd: usd, warnings: [] },
    { etag: `"${channel.version}"` },
  );
}

async function settingsBody(deps: ApiDeps) {
  const { ledger, prices, budgets } = spendOf(deps);
  const at = deps.clock.now();
  const [budget, month, page] = await Promise.all([
    budgets.get(null),
    ledger.appMonth(monthWindow(at).month),
    deps.channels.list({ limit: 100 }),
  ]);
  return {
    monthlyBudgetUsd: budget.app,
    cost: appCostReport({
      month,
      at,
      prices,
      budgetUsd: budget.app,
      channels: page.items.length,
      pollIntervalSeconds: pollIntervalOf(deps, { listenMentions: true, listenDms: true }),
    }),
  };
}

export const costOperations: Readonly<Record<CostOperationId, Operation>> = {
  async getChannelCost(ctx) {
    const channel = await getChannel(ctx.deps, channelIdParam(ctx));
    const { ledger, prices, budgets } = spendOf(ctx.deps);
    const at = ctx.deps.clock.now();
    const [days, budget] = await Promise.all([
      ledger.days(channel.id, monthWindow(at).month),
      budgets.get(channel.id),
    ]);
    const report = channelCostReport({
      days,
      at,
      prices,
      budgetUsd: budget.channel,
      pollIntervalSeconds: pollIntervalOf(ctx.deps, channel),
    });
    return json(200, { id: channel.id, ...report });
  },
  async getSettings(ctx) {
    return json(200, await settingsBody(ctx.deps));
  },
  async patchSettings(ctx) {
    const body = parseOrThrow(patchSettingsBodySchema, readJsonBody(ctx), 'body', ctx.requestId);
    if (body.monthlyBudgetUsd === undefined) throw invalidInput('body', 'name at least one field to change');
    await spendOf(ctx.deps).budgets.set(null, body.monthlyBudgetUsd);
    ctx.deps.logger.info('app budget changed', {
      adminSub: ctx.sub,
      monthlyBudgetUsd: body.monthlyBudgetUsd,
    });
    // every channel at its floor re-checks now (the app's budget may have been what held it)
    let cursor: string | undefined;
    do {
      const page = await ctx.deps.channels.list({ limit: 100, cursor });
      for (const channel of page.items) await recheckIfAtFloor(ctx.deps, channel);
      cursor = page.nextCursor;
    } while (cursor);
    return json(200, await settingsBody(ctx.deps));
  },
};
