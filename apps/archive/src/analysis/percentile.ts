/**
 * The p-th percentile (0 < p <= 100) of durations by the nearest-rank method: the smallest value with at least p% of
 * the values at or below it. Always one of the values (exact milliseconds, never interpolated); undefined when empty.
 * Sorts a copy.
 */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}
