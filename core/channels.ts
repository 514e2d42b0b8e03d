/**
 * Channel use cases behind the admin API: create, read, list, patch (switches, pause/resume,
 * options) and delete. Sign in with X (start authorization, complete it at the callback) is in
 * `sign-in.ts`. Every change is a version-conditional write through `ChannelStore`; tokens go only to
 * the vault.
 */
import type { Channel, ChannelOptions, ChannelSwitches } from './channel';
import { DEFAULT_OPTIONS, emptyHealth } from './channel';
import { isChannelError, permanent } from './errors';
import type { ChannelChange, ChannelStore, Clock, Page } from './ports';
import type { OAuthStateStore, XOAuth } from './oauth';
import { newChannelId } from './oauth';
import type { TokenVault } from './tokens';
import { firstAttempt, revokeAtX, revokeErrorCode, type RevocationStore } from './revocations';

export interface ChannelDeps {
  channels: ChannelStore;
  clock: Clock;
  /** Injectable for tests; defaults to `ch_` + 20 random base32 chars. */
  newId?: () => string;
}

export interface SignInDeps extends ChannelDeps {
  states: OAuthStateStore;
  oauth: XOAuth;
  vault: TokenVault;
  /**
   * Pending revocations: a grant X could not revoke at a channel's deletion is kept and recorded here
   * (core/revocations.ts). Without it such a grant is deleted unrevoked (`revokedAtX: 'failed'`).
   */
  revocations?: RevocationStore;
  /** Told about best-effort failures that do not change the outcome (e.g. a failed revoke). */
  onWarning?: (event: { channelId: string; code: string; message: string }) => void;
}

/** A non-fatal remark attached to an API answer. */
export interface Warning {
  code: string;
  message: string;
}

/** A switch, or `media` (outbound media needs `media.write`, requested by every sign-in since #18). */
export type Feature = 'mentions' | 'dms' | 'autoFollow' | 'media';

export const AUTO_FOLLOW_WARNING: Warning = {
  code: 'auto_follow_discouraged',
  message:
    'Auto-follow is on. X’s developer guidelines discourage automated following, and since 2026-04-20 the follow endpoint is Enterprise-only for self-serve and pay-per-use apps: expect the feature to be reported as unavailable on other plans. Alternatives: let the account accept message requests from everyone, or reply with a DM link.',
};

/**
 * Features switched on whose scope the last sign-in did not grant. Such a switch has no effect until
 * the admin signs in again (the answer's `needsReauthorization`); the channel keeps running otherwise.
 */
export function missingGrants(
  channel: Pick<Channel, 'account' | 'scopes' | keyof ChannelSwitches>,
): Feature[] {
  if (!channel.account) return [];
  const granted = new Set(channel.scopes ?? []);
  const out: Feature[] = [];
  if (channel.listenMentions && !(granted.has('tweet.read') && granted.has('users.read')))
    out.push('mentions');
  if (channel.listenDms && !granted.has('dm.read')) out.push('dms');
  if (channel.autoFollow && !granted.has('follows.write')) out.push('autoFollow');
  // Outbound media is always possible, so a sign-in without media.write (older ones) asks for another.
  if (!granted.has('media.write')) out.push('media');
  return out;
}

function reauthWarning(features: Feature[]): Warning {
  return {
    code: 'reauthorization_needed',
    message: `Sign in with X again to grant the permissions for: ${features.join(', ')}. Until then these switches have no effect.`,
  };
}

const notFound = (id: string) => permanent('channel_not_found', `channel ${id} does not exist`);

export interface CreateChannelInput extends ChannelSwitches {
  name?: string | null;
  options?: Partial<ChannelOptions>;
}

export async function createChannel(
  deps: ChannelDeps,
  input: CreateChannelInput,
): Promise<{ channel: Channel; warnings: Warning[] }> {
  const now = deps.clock.now().toISOString();
  const channel: Channel = {
    id: (deps.newId ?? newChannelId)(),
    name: input.name ?? null,
    status: 'pending_auth',
    statusReason: null,
    account: null,
    scopes: [],
    listenMentions: input.listenMentions,
    listenDms: input.listenDms,
    autoFollow: input.autoFollow,
    options: { ...DEFAULT_OPTIONS, ...input.options },
    createdAt: now,
    updatedAt: now,
    connectedAt: null,
    checkpoints: { mentionsSinceId: null, dmEventId: null, dmCreatedAt: null },
    health: emptyHealth(),
    version: 1,
  };
  await deps.channels.create(channel);
  return { channel, warnings: input.autoFollow ? [AUTO_FOLLOW_WARNING] : [] };
}

export async function getChannel(deps: Pick<ChannelDeps, 'channels'>, id: string): Promise<Channel> {
  const channel = await deps.channels.get(id);
  if (!channel) throw notFound(id);
  return channel;
}

export function listChannels(
  deps: Pick<ChannelDeps, 'channels'>,
  page: { limit: number; cursor?: string },
): Promise<Page<Channel>> {
  return deps.channels.list(page);
}

export interface PatchChannelInput extends Partial<ChannelSwitches> {
  name?: string | null;
  paused?: boolean;
  options?: Partial<ChannelOptions>;
  /** When given, the change applies only to this version (else 412 `version_mismatch`). */
  expectedVersion?: number;
}

/** Computes the store change for a patch against the channel's current state. */
export function planPatch(
  channel: Channel,
  input: PatchChannelInput,
): { change: ChannelChange; warnings: Warning[] } {
  const change: ChannelChange = {};
  const warnings: Warning[] = [];
  const disabled: NonNullable<ChannelChange['disabled']> = {};
  const switches: Array<[keyof ChannelSwitches, Exclude<Feature, 'media'>]> = [
    ['listenMentions', 'mentions'],
    ['listenDms', 'dms'],
    ['autoFollow', 'autoFollow'],
  ];
  for (const [key, feature] of switches) {
    const value = input[key];
    if (value === undefined || value === channel[key]) continue;
    change[key] = value;
    // switching a feature on again gives it a fresh chance: the poller re-discovers a plan limit if it persists
    if (value && channel.health?.disabled?.[feature]) disabled[feature] = null;
  }
  if (Object.keys(disabled).length) change.disabled = disabled;
  if (input.autoFollow === true && !channel.autoFollow) warnings.push(AUTO_FOLLOW_WARNING);
  if (input.name !== undefined && input.name !== channel.name) change.name = input.name;
  if (input.options) change.options = { ...DEFAULT_OPTIONS, ...channel.options, ...input.options };
  if (input.paused === true && channel.status !== 'paused') {
    change.status = 'paused';
    change.statusReason = 'paused by an admin';
  } else if (input.paused === false && channel.status === 'paused') {
    change.status = channel.account ? 'active' : 'pending_auth';
    change.statusReason = null;
  }
  const missing = missingGrants({ ...channel, ...change } as Channel);
  const newlyMissing = missing.filter((f) => !missingGrants(channel).includes(f));
  if (newlyMissing.length) warnings.push(reauthWarning(missing));
  return { change, warnings };
}

export async function patchChannel(
  deps: ChannelDeps,
  id: string,
  input: PatchChannelInput,
): Promise<{ channel: Channel; warnings: Warning[] }> {
  for (let attempt = 0; ; attempt++) {
    const channel = await getChannel(deps, id);
    if (input.expectedVersion !== undefined && input.expectedVersion !== channel.version) {
      throw permanent(
        'version_mismatch',
        `channel ${id} is at version ${channel.version}, not ${input.expectedVersion}: reload and try again`,
      );
    }
    const { change, warnings } = planPatch(channel, input);
    if (Object.keys(change).length === 0) return { channel, warnings };
    try {
      return { channel: await deps.channels.update(id, channel.version, change), warnings };
    } catch (e) {
      // without an explicit version the admin asked for "this change on whatever is current": re-plan
      if (isChannelError(e) && e.code === 'conflict' && input.expectedVersion === undefined && attempt < 4)
        continue;
      if (isChannelError(e) && e.code === 'conflict') {
        throw permanent('version_mismatch', `channel ${id} changed meanwhile: reload and try again`);
      }
      throw e;
    }
  }
}

export interface DeleteOutcome {
  id: string;
  deleted: true;
  /**
   * `revoked`: X revoked the grant; `pending`: X could not be reached, the encrypted grant is kept and
   * its revocation pending (core/revocations.ts); `failed`: could not be revoked and was deleted (no
   * revocation store); `not_connected`: there was no grant.
   */
  revokedAtX: 'revoked' | 'pending' | 'failed' | 'not_connected';
  revokeError?: string;
}

export async function deleteChannel(deps: SignInDeps, id: string): Promise<DeleteOutcome> {
  const channel = await getChannel(deps, id);
  const tokens = await deps.vault.get(id);
  let revokedAtX: DeleteOutcome['revokedAtX'] = 'not_connected';
  let revokeError: string | undefined;
  if (tokens) {
    try {
      await revokeAtX(deps.oauth, tokens);
      revokedAtX = 'revoked';
    } catch (e) {
      revokeError = revokeErrorCode(e);
      revokedAtX = deps.revocations ? 'pending' : 'failed';
      deps.onWarning?.({ channelId: id, code: 'revoke_failed', message: 'revoking the grant at X failed' });
    }
  }
  if (revokedAtX === 'pending') {
    // Recorded before anything is deleted: a crash after this leaves a retryable record, never a grant
    // nobody knows of.
    await deps.revocations!.put(
      firstAttempt(
        { id, kind: 'deleted', channelId: id, name: channel.name, account: channel.account },
        deps.clock.now(),
        revokeError!,
      ),
    );
  } else {
    await deps.vault.delete(id);
  }
  if (channel.account) await deps.channels.releaseAccount(channel.account.id, id);
  await deps.channels.delete(id);
  return { id, deleted: true, revokedAtX, ...(revokeError ? { revokeError } : {}) };
}
