/**
 * Shared in-memory fakes of the ports, one per port, units in names (`advanceMs`). Each fake that has a
 * DynamoDB twin is held to it by a contract suite in test/contract/.
 */
export { FakeClock } from './clock';
export { makeChannel, TEST_ACCOUNT } from './channel';
export { FakeChannelStore } from './channel-store';
export { FakeIdempotencyStore } from './idempotency-store';
export { FakeXActivity, fakeRealtimeStore } from './x-activity';
