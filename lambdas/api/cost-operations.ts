/**
 * The cost routes (issue 20): a channel's X and AWS spend, budget state and plan advice
 * (`GET /channels/{id}/cost`), computed from the spend meter's counters (core/cost/report.ts).
 */
import { channelCostReport } from '../../core/cost/report';
import { monthWindow } from '../../core/cost/meter';
import { getChannel } from '../../core/channels';
import { planPollInterval, TIER_WINDOWS } from '../../core/inbound/planner';
import type { Channel } from '../../core/channel';
import type { ApiDeps } from './compose';
import { channelIdParam, json, type ApiOperationId, type Operation } from './operations';

type CostOperationId = Extract<ApiOperationId, 'getChannelCost'>;

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

export const costOperations: Readonly<Record<CostOperationId, Operation>> = {
  async getChannelCost(ctx) {
    const channel = await getChannel(ctx.deps, channelIdParam(ctx));
    const { ledger, prices } = spendOf(ctx.deps);
    const at = ctx.deps.clock.now();
    const days = await ledger.days(channel.id, monthWindow(at).month);
    const report = channelCostReport({
      days,
      at,
      prices,
      budgetUsd: null,
      pollIntervalSeconds: pollIntervalOf(ctx.deps, channel),
    });
    return json(200, { id: channel.id, ...report });
  },
};
