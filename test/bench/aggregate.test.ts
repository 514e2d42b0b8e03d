/**
 * How the bench folds runs into figures (bench/aggregate.ts): each number is the median of the runs
 * that gave one, with min, max and count beside it by dotted key; details that are not numbers come
 * from the last run; a run without a number is left out of the median, not counted as zero.
 */
import { aggregateSection, median } from '../../bench/aggregate';

describe('bench aggregation', () => {
  it('takes the median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(/no values/);
  });

  it('reports every number as its median with min, max and count by dotted key', () => {
    const { section, spread } = aggregateSection(
      [
        { messagesPerSecond: 900, nested: { p99Ms: 80 }, runs: [{ channels: 1 }], note: 'a' },
        { messagesPerSecond: 500, nested: { p99Ms: 120 }, runs: [{ channels: 2 }], note: 'b' },
        { messagesPerSecond: 700, nested: { p99Ms: 100 }, runs: [{ channels: 3 }], note: 'c' },
      ],
      'inbound',
    );
    expect(section).toEqual({
      messagesPerSecond: 700,
      nested: { p99Ms: 100 },
      runs: [{ channels: 3 }],
      note: 'c',
    });
    expect(spread['inbound.messagesPerSecond']).toEqual({ min: 500, max: 900, n: 3 });
    expect(spread['inbound.nested.p99Ms']).toEqual({ min: 80, max: 120, n: 3 });
    expect(spread).not.toHaveProperty(['inbound.runs']);
  });

  it('leaves a run without a number out of the median', () => {
    const { section, spread } = aggregateSection(
      [{ tickMs: 100 }, { tickMs: null }, { tickMs: 300 }],
      'dispatcher',
    );
    expect(section.tickMs).toBe(200);
    expect(spread['dispatcher.tickMs']).toEqual({ min: 100, max: 300, n: 2 });
  });

  it('keeps null when no run gave a number', () => {
    const { section, spread } = aggregateSection([{ channels10kMs: null }, { channels10kMs: null }], 'd');
    expect(section.channels10kMs).toBeNull();
    expect(spread).toEqual({});
  });
});
