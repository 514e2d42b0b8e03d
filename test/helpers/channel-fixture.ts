/**
 * A channel record as the sign-in flow leaves it: active, listening to mentions and DMs, checkpoints
 * empty. Integration and reliability tests write it straight to the store after signing the account in
 * at the simulated X.
 */
import { DEFAULT_OPTIONS, emptyHealth, type Channel } from '../../core/channel';

export function activeChannel(input: {
  id: string;
  account: { id: string; username: string; name: string };
  scopes: string[];
  /** ISO time used for createdAt, updatedAt and connectedAt. */
  at: string;
  overrides?: Partial<Channel>;
}): Channel {
  const { id, account, scopes, at, overrides = {} } = input;
  return {
    id,
    name: account.username,
    status: 'active',
    statusReason: null,
    account: { ...account, avatarUrl: null },
    listenMentions: true,
    listenDms: true,
    autoFollow: false,
    scopes,
    options: { ...DEFAULT_OPTIONS },
    createdAt: at,
    updatedAt: at,
    connectedAt: at,
    checkpoints: { mentionsSinceId: null, dmEventId: null, dmCreatedAt: null },
    health: emptyHealth(),
    version: 1,
    ...overrides,
  };
}
