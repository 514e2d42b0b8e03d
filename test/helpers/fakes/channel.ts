/** The one channel builder of the unit tests: an active, signed-in channel listening to mentions and DMs. */
import { DEFAULT_OPTIONS, emptyHealth, type Channel } from '../../../core/channel';

export const TEST_ACCOUNT = { id: '1000', username: 'acme', name: 'Acme', avatarUrl: null };

/**
 * @example
 * ```ts
 * const paused = makeChannel({ status: 'paused', listenDms: false });
 * ```
 */
export function makeChannel(overrides: Partial<Channel> = {}): Channel {
  return {
    id: 'ch1',
    name: null,
    status: 'active',
    statusReason: null,
    account: { ...TEST_ACCOUNT },
    listenMentions: true,
    listenDms: true,
    autoFollow: false,
    scopes: [],
    options: { ...DEFAULT_OPTIONS },
    createdAt: '2026-09-01T00:00:00.000Z',
    updatedAt: '2026-09-01T00:00:00.000Z',
    connectedAt: '2026-09-01T00:00:00.000Z',
    checkpoints: { mentionsSinceId: null, dmEventId: null, dmCreatedAt: null },
    health: emptyHealth(),
    version: 1,
    ...overrides,
  };
}
