export const TOKEN_STATES = ['PENDING', 'DONE', 'DELETED', 'EXPIRED'] as const;
export type TokenState = (typeof TOKEN_STATES)[number];

/**
 * A PENDING token reads as EXPIRED from the instant expireAt passes, whether or not the sweep
 * has stored it yet (CONTRACT.md section 4, States). Code reads go through this; the list's
 * sort by state applies the same rule in SQL (token.repo.ts).
 */
export function effectiveState(stored: string, expireAt: Date, now: Date): TokenState {
  if (stored === 'PENDING' && expireAt.getTime() <= now.getTime()) return 'EXPIRED';
  return stored as TokenState;
}
