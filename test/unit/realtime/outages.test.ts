import { planReplay, xMinute } from '../../../core/realtime/outages';
import { parseReplayStatus } from '../../../core/realtime/webhook';

const at = (iso: string) => new Date(iso);

describe('planReplay', () => {
  const now = at('2026-09-02T12:00:30Z');

  it('replays the union of the windows in whole minutes, never past the current minute', () => {
    const plan = planReplay(
      [
        { from: '2026-09-02T11:10:20Z', to: '2026-09-02T11:20:00Z' },
        { from: '2026-09-02T11:50:00Z', to: '2026-09-02T12:03:00Z' },
      ],
      now,
    );
    expect(plan).toEqual({
      replay: { from: at('2026-09-02T11:10:00Z'), to: at('2026-09-02T12:00:00Z') },
      backfillFrom: null,
    });
  });

  it('cuts a gap at the 24 h limit (less a margin) and hands the older part to polling', () => {
    const plan = planReplay([{ from: '2026-09-01T06:00:00Z', to: '2026-09-02T11:00:00Z' }], now);
    expect(plan).toEqual({
      replay: { from: at('2026-09-01T12:03:00Z'), to: at('2026-09-02T11:00:00Z') },
      backfillFrom: at('2026-09-01T06:00:00Z'),
    });
    expect(planReplay([{ from: '2026-08-30T00:00:00Z', to: '2026-08-31T00:00:00Z' }], now)).toEqual({
      replay: null,
      backfillFrom: at('2026-08-30T00:00:00Z'),
    });
    expect(planReplay([], now)).toBeNull();
  });

  it('formats X replay times as UTC yyyymmddhhmm', () => {
    expect(xMinute(at('2026-09-02T07:05:59.999Z'))).toBe('202609020705');
  });
});

describe('parseReplayStatus', () => {
  it('reads X replay_job_status bodies and nothing else', () => {
    const body = JSON.stringify({
      replay_job_status: {
        webhook_id: '1',
        job_state: 'Complete',
        job_state_description: 'ok',
        job_id: '42',
      },
    });
    expect(parseReplayStatus(body)).toEqual({ job_id: '42', job_state: 'Complete' });
    expect(parseReplayStatus('{"data":{"event_type":"post.mention.create"}}')).toBeNull();
    expect(parseReplayStatus('{"replay_job_status":{"job_id":42}}')).toBeNull();
    expect(parseReplayStatus('"replay_job_status" not json')).toBeNull();
  });
});

describe('the webhook function tells the watch schedule from HTTP', () => {
  it('runs the watch for the Scheduler input and an EventBridge Scheduled Event only', async () => {
    const { isScheduledEvent } = await import('../../../lambdas/webhook/app');
    expect(isScheduledEvent({ source: 'x-channel.realtime-watch' })).toBe(true);
    expect(isScheduledEvent({ 'detail-type': 'Scheduled Event', source: 'aws.scheduler' })).toBe(true);
    expect(isScheduledEvent({ source: 'x-channel.schedule' })).toBe(false);
    expect(
      isScheduledEvent({ requestContext: { http: { method: 'POST' } }, source: 'x-channel.realtime-watch' }),
    ).toBe(false);
    expect(isScheduledEvent(undefined)).toBe(false);
  });
});
