/** The one fake clock of the unit tests: time moves only when a test says so, in named units. */
import type { Clock } from '../../../core/ports';

export class FakeClock implements Clock {
  /** The current time, epoch milliseconds. */
  epochMs: number;

  /** @param start the first `now()`: an ISO string, a Date, or epoch milliseconds. */
  constructor(start: string | Date | number = '2026-09-01T10:00:00Z') {
    this.epochMs = typeof start === 'number' ? start : new Date(start).getTime();
    if (!Number.isFinite(this.epochMs)) throw new Error(`FakeClock: start is not a time: ${String(start)}`);
  }

  now = (): Date => new Date(this.epochMs);

  advanceMs(ms: number): void {
    this.epochMs += ms;
  }

  advanceSeconds(seconds: number): void {
    this.epochMs += seconds * 1000;
  }

  /** Jumps to an absolute time (epoch milliseconds). */
  setMs(epochMs: number): void {
    this.epochMs = epochMs;
  }
}
