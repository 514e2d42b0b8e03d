import { scanDms } from '../../../core/inbound/dm-scan';
import type { XDmEventData } from '../../../core/inbound/types';
import {
  DEFAULT_SWEEP,
  decideDmRead,
  dmProvenTo,
  dueSweep,
  type RealtimeProof,
} from '../../../core/realtime/proof';
import { retryable } from '../../../core/errors';

const at = (iso: string) => new Date(iso);

describe('dueSweep', () => {
  it('starts on the first tick, then sweeps the time since the last sweep every hour', () => {
    expect(dueSweep(null, at('2026-12-07T10:00:00Z'))).toBe('start');
    expect(dueSweep('2026-12-07T10:00:00.000Z', at('2026-12-07T10:30:00Z'))).toBeNull();
    expect(dueSweep('2026-12-07T10:00:00.000Z', at('2026-12-07T11:03:00Z'))).toEqual({
      from: at('2026-12-07T10:00:00Z'),
      to: at('2026-12-07T11:01:00Z'),
    });
  });

  it('sweeps once shortly before UTC midnight, so the replay is on the day of its events', () => {
    const s = DEFAULT_SWEEP;
    expect(dueSweep('2026-12-07T23:30:00.000Z', at('2026-12-07T23:49:00Z'), s)).toBeNull();
    expect(dueSweep('2026-12-07T23:30:00.000Z', at('2026-12-07T23:50:00Z'), s)).toEqual({
      from: at('2026-12-07T23:30:00Z'),
      to: at('2026-12-07T23:48:00Z'),
    });
    // and not again every minute until midnight
    expect(dueSweep('2026-12-07T23:48:00.000Z', at('2026-12-07T23:55:00Z'), s)).toBeNull();
  });

  it('never sweeps when switched off', () => {
    expect(dueSweep(null, at('2026-12-07T10:00:00Z'), { ...DEFAULT_SWEEP, everyMs: 0 })).toBeNull();
  });
});

describe('dmProvenTo and decideDmRead', () => {
  const proof = (over: Partial<RealtimeProof> = {}): RealtimeProof => ({
    proven: { from: '2026-12-07T09:58:00.000Z', to: '2026-12-07T15:59:00.000Z' },
    listedAt: '2026-12-07T16:00:00.000Z',
    watchAt: '2026-12-07T16:00:00.000Z',
    webhookValidAt: '2026-12-07T16:00:00.000Z',
    ...over,
  });
  const sub = { id: 's1', eventType: 'dm.received', since: '2026-12-07T09:00:00.000Z' };
  const base = {
    proof: proof(),
    subscription: sub,
    checkpointAt: '2026-12-07T08:00:00.000Z',
    coveredTo: '2026-12-07T10:00:00.000Z',
    hold: null,
    now: at('2026-12-07T16:01:00Z'),
    freshMs: 6 * 3600_000,
  };

  it('proves up to the span end less a margin, or the list time when earlier', () => {
    expect(dmProvenTo({ proof: proof(), subscription: sub, lower: '2026-12-07T10:00:00.000Z' })).toBe(
      '2026-12-07T15:58:00.000Z',
    );
    expect(
      dmProvenTo({
        proof: proof({ listedAt: '2026-12-07T12:00:00.000Z' }),
        subscription: sub,
        lower: '2026-12-07T10:00:00.000Z',
      }),
    ).toBe('2026-12-07T12:00:00.000Z');
  });

  it('proves nothing when the span starts after the lower bound, the subscription is newer, or has no since', () => {
    const lower = '2026-12-07T09:00:00.000Z';
    expect(dmProvenTo({ proof: proof(), subscription: sub, lower })).toBeNull();
    expect(
      dmProvenTo({
        proof: proof(),
        subscription: { ...sub, since: '2026-12-07T11:00:00.000Z' },
        lower: '2026-12-07T10:00:00.000Z',
      }),
    ).toBeNull();
    expect(
      dmProvenTo({
        proof: proof(),
        subscription: { id: 's1', eventType: 'dm.received' },
        lower: '2026-12-07T10:00:00.000Z',
      }),
    ).toBeNull();
    expect(dmProvenTo({ proof: null, subscription: sub, lower: '2026-12-07T10:00:00.000Z' })).toBeNull();
  });

  it('skips while the proof is fresh and real time is up', () => {
    expect(decideDmRead(base)).toEqual({ skip: true, floor: '2026-12-07T15:58:00.000Z' });
  });

  it('reads (from the proof) when a DM with media waits, the watch stopped or the webhook is invalid', () => {
    const read = { skip: false, floor: '2026-12-07T15:58:00.000Z' };
    expect(decideDmRead({ ...base, hold: '2026-12-07T12:00:00.000Z' })).toEqual(read);
    expect(decideDmRead({ ...base, proof: proof({ watchAt: '2026-12-07T15:00:00.000Z' }) })).toEqual(read);
    expect(decideDmRead({ ...base, proof: proof({ webhookValidAt: '2026-12-07T15:00:00.000Z' }) })).toEqual(
      read,
    );
  });

  it('reads from the stored floor when the proof is older than one DM interval', () => {
    expect(decideDmRead({ ...base, now: at('2026-12-07T23:00:00Z') })).toEqual({
      skip: false,
      floor: '2026-12-07T15:58:00.000Z',
    });
    expect(decideDmRead({ ...base, proof: proof({ proven: null }) })).toEqual({
      skip: false,
      floor: '2026-12-07T10:00:00.000Z',
    });
  });
});

describe('scanDms with a floor and a hold', () => {
  const event = (id: string, createdAt: string): XDmEventData =>
    ({ id, event_type: 'MessageCreate', created_at: createdAt, sender_id: '9', text: id }) as XDmEventData;
  const events = [
    event('30', '2026-12-07T12:00:00.000Z'),
    event('20', '2026-12-07T11:00:00.000Z'),
    event('10', '2026-12-07T10:00:00.000Z'),
  ];
  const read = async () => ({ data: events, includes: {}, meta: {} });
  const input = {
    checkpoints: { dmEventId: '1', dmCreatedAt: '2026-12-07T08:00:00.000Z' },
    startTime: '2026-12-07T07:00:00.000Z',
    maxPages: 3,
    idlePageSize: 100,
    toChannelError: () => retryable('internal', 'x'),
  };

  it('stops at the floor when it lies above the checkpoint', async () => {
    const scan = await scanDms(read, { ...input, floor: '2026-12-07T10:30:00.000Z' });
    expect(scan.items.map((i) => i.event.id)).toEqual(['20', '30']);
    expect(scan.complete).toBe(true);
    expect(scan.next.dmEventId).toBe('30');
  });

  it('reads down to a hold below the floor', async () => {
    const scan = await scanDms(read, {
      ...input,
      floor: '2026-12-07T11:30:00.000Z',
      hold: '2026-12-07T10:00:00.000Z',
    });
    expect(scan.items.map((i) => i.event.id)).toEqual(['10', '20', '30']);
  });
});
