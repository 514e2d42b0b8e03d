/**
 * Public views of a channel. Built field by field (never by spreading the record) so that a field
 * added to the record later is not published by accident. Tokens are never in the record anyway.
 */
import type { BudgetHealth } from '../../core/cost/budget-floor';
import type { Channel } from '../../core/channel';
import { emptyHealth } from '../../core/channel';
import { missingGrants } from '../../core/channels';
import { wantedFor } from '../../core/realtime/subscriptions';

/**
 * Real time as the console and health show it: `on`, `off` with the reason, or `catching_up` (on, while
 * replay or reconciliation fills a known gap since `catchingUpSince`).
 */
export function serializeRealtime(c: Channel) {
  const r = c.realtime;
  const wanted = wantedFor(c);
  const off = r
    ? null
    : (wanted.off ?? {
        code: 'not_synced',
        reason: 'not subscribed yet: the next reconciliation subscribes',
      });
  const catchingUpSince = c.realtimeCatchingUpSince ?? null;
  const state = r?.state === 'on' ? (catchingUpSince ? 'catching_up' : 'on') : 'off';
  return {
    state,
    reasonCode: r ? r.reasonCode : off!.code,
    reason: r ? r.reason : off!.reason,
    mentions: r?.mentions ?? false,
    dms: r?.dms ?? false,
    lastEventAt: c.realtimeLastEventAt ?? null,
    catchingUpSince,
    encryptedDms: c.realtimeEncryptedDms ?? 0,
    subscriptions: (r?.subscriptions ?? []).map((s) => ({ id: s.id, eventType: s.eventType })),
    checkedAt: r?.checkedAt ?? null,
  };
}

export function serializeChannel(c: Channel) {
  const h = { ...emptyHealth(), ...c.health };
  return {
    id: c.id,
    name: c.name ?? null,
    status: c.status,
    statusReason: c.statusReason ?? null,
    account: c.account
      ? {
          id: c.account.id,
          username: c.account.username,
          name: c.account.name,
          avatarUrl: c.account.avatarUrl ?? null,
        }
      : null,
    listenMentions: c.listenMentions,
    listenDms: c.listenDms,
    autoFollow: c.autoFollow,
    options: c.options,
    scopes: c.scopes ?? [],
    /** Switches that need a new Sign in with X to take effect (their scope was not granted). */
    needsReauthorization: missingGrants(c),
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    connectedAt: c.connectedAt ?? null,
    version: c.version,
    checkpoints: c.checkpoints,
    health: {
      lastPollAt: h.lastPollAt,
      lastSuccessAt: h.lastSuccessAt,
      nextPollAt: h.nextPollAt,
      lastError: h.lastError,
      disabled: h.disabled,
    },
    realtime: serializeRealtime(c),
  };
}

export function serializeHealth(c: Channel) {
  const h = { ...emptyHealth(), ...c.health };
  return {
    id: c.id,
    status: c.status,
    statusReason: c.statusReason ?? null,
    needsReauthorization: missingGrants(c),
    lastPollAt: h.lastPollAt,
    lastSuccessAt: h.lastSuccessAt,
    nextPollAt: h.nextPollAt,
    lastError: h.lastError,
    rateLimits: h.rateLimits,
    notBefore: h.notBefore,
    disabled: h.disabled,
    counters: h.counters,
    realtime: serializeRealtime(c),
    budget: serializeBudget(h.budget),
    /** The channel's spend, budget and plan advice in full (`GET /channels/{id}/cost`). */
    costUrl: `/channels/${encodeURIComponent(c.id)}/cost`,
  };
}

/**
 * The monthly X budget as the poller last checked it (core/cost/budget-floor.ts): `reasonCode`
 * `budget_warning` from 80 %, `budget_exhausted` at 100 % (polls at `floor`, real time on); null
 * before any poll checked it.
 */
export function serializeBudget(b: BudgetHealth | null | undefined) {
  if (!b) return null;
  return {
    state: b.state,
    reasonCode: b.reasonCode,
    reason: b.reason,
    scope: b.scope,
    month: b.month,
    checkedAt: b.checkedAt,
    channel: b.channel,
    app: b.app,
    floor: b.floor,
  };
}
