/** Admin API dependencies over in-memory fakes, for fast unit and property tests. */
import { createLogger } from '../../../lambdas/shared/logger';
import type { ApiDeps } from '../../../lambdas/api/compose';
import { loadConfig } from '../../../lambdas/api/config';
import { createTokenProvider } from '../../../core/tokens';
import {
  FakeChannelStore,
  FakeClock,
  TOKENS_T0,
  fakeLeases,
  fakeStates,
  fakeVault,
  fakeXOAuth,
} from '../tokens/fakes';
import { FakeXActivity, fakeRealtimeStore } from '../../helpers/fakes';
import { realtimeSettings } from '../../../lambdas/shared/realtime';

export function fakeApiDeps(env: Record<string, string> = {}) {
  const clock = new FakeClock(TOKENS_T0);
  const channels = new FakeChannelStore(clock);
  const vault = fakeVault();
  const states = fakeStates();
  const x = fakeXOAuth();
  const config = loadConfig({
    AWS_REGION: 'us-east-1',
    TABLE_NAME: 't',
    X_APP_SECRET_ID: 'app',
    LOG_LEVEL: 'ERROR',
    ...env,
  });
  const activity = new FakeXActivity();
  const tokens = createTokenProvider({ vault, leases: fakeLeases(clock), oauth: x.port, channels, clock });
  const deps: ApiDeps = {
    config,
    logger: createLogger({ logLevel: 'ERROR' }),
    clock,
    channels,
    vault,
    states,
    oauth: x.port,
    tokens,
    realtime: {
      x: activity,
      tokens,
      store: fakeRealtimeStore(channels),
      clock,
      settings: realtimeSettings(config.X_TIER, config.XAA_SUBSCRIPTION_LIMIT),
      unsupported: new Set(),
    },
  };
  return { deps, clock, channels, vault, states, x, activity };
}
