import type { Platform } from '../../platforms/platforms.ts';

export interface Plan {
  platforms: Platform[];
  /** Cap on open (PENDING, unexpired) enrollment tokens; null for none. */
  maxOpenTokens: number | null;
}

/** The plans an operator can give an organization (`openroll org create --plan`). */
export const PLANS: Record<string, Plan> = {
  free: { platforms: ['windows'], maxOpenTokens: 25 },
  business: { platforms: ['windows', 'apple'], maxOpenTokens: 5_000 },
  enterprise: { platforms: ['windows', 'apple'], maxOpenTokens: null },
};

export const DEFAULT_PLAN = 'enterprise';
