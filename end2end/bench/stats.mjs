// Summary statistics over repeated measurements.

/** Returns the median of a list of numbers. */
export function median(values) {
  return percentile(values, 50);
}

/** Returns the p-th percentile (nearest rank) of a list of numbers. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** Rounds for display: three significant figures, at most two decimals. */
export function round(value) {
  if (!Number.isFinite(value)) return value;
  const magnitude = Math.abs(value);
  let decimals = 2;
  if (magnitude >= 100) decimals = 0;
  else if (magnitude >= 10) decimals = 1;
  return Number(value.toFixed(decimals));
}
