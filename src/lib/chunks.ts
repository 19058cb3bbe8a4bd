/**
 * `items` in runs of at most `size`, in order. Multi-row statements are cut this way so that
 * one never passes PostgreSQL's 65,535 bind parameters (rows × columns) nor grows unbounded.
 */
export function chunked<T>(items: readonly T[], size: number): T[][] {
  const runs: T[][] = [];
  for (let i = 0; i < items.length; i += size) runs.push(items.slice(i, i + size));
  return runs;
}
