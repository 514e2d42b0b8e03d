/**
 * Folding several runs of one scenario into the figure the bench reports: every number is the median
 * of the runs that produced it, with its min, max and count kept beside it (`spread`, keyed by the
 * figure's dotted path). Details that are not numbers (arrays of per-run rows, strings, the latency
 * plot's path) are the last successful run's. A run that failed is left out of the medians; when every
 * run failed the section says why (`missing`).
 */

/** Min, max and how many runs gave a number. */
export interface Spread {
  min: number;
  max: number;
  n: number;
}

/** Median of a non-empty list (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (!values.length) throw new Error('median of no values');
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Keeps the digits a figure had (a median of integers that falls between two is rounded to 0.1). */
function tidy(v: number, inputs: readonly number[]): number {
  const digits = Math.max(
    1,
    ...inputs.map((x) => {
      const s = String(x);
      return s.includes('.') ? s.length - s.indexOf('.') - 1 : 0;
    }),
  );
  return Math.round(v * 10 ** digits) / 10 ** digits;
}

/**
 * Merges the runs of one section. `sections` are the successful runs (each a section object, in run
 * order); `prefix` is the section's key in the results. Returns the merged section and the spread of
 * every number in it.
 */
export function aggregateSection(
  sections: readonly Record<string, unknown>[],
  prefix: string,
): { section: Record<string, unknown>; spread: Record<string, Spread> } {
  const spread: Record<string, Spread> = {};
  const merge = (values: readonly unknown[], path: string): unknown => {
    const last = values[values.length - 1];
    const numbers = values.filter(isNumber);
    if (numbers.length && values.every((v) => isNumber(v) || v === null || v === undefined)) {
      const m = tidy(median(numbers), numbers);
      spread[path] = { min: Math.min(...numbers), max: Math.max(...numbers), n: numbers.length };
      return m;
    }
    if (isObject(last)) {
      const objects = values.filter(isObject);
      const keys = [...new Set(objects.flatMap((o) => Object.keys(o)))];
      return Object.fromEntries(
        keys.map((k) => [
          k,
          merge(
            objects.map((o) => o[k]),
            `${path}.${k}`,
          ),
        ]),
      );
    }
    return last;
  };
  const section = merge(sections, prefix) as Record<string, unknown>;
  return { section, spread };
}
