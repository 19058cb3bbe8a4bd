import type { ErrorName } from '../errors.ts';

export const PLATFORMS = ['windows', 'apple'] as const;
export type Platform = (typeof PLATFORMS)[number];

/**
 * What differs between Windows and Apple beyond field names: the token's type, the create
 * error, the label. Field names differ per platform in the route schemas, which spell them out
 * so their Static<> types carry them; everything else is one core (STYLE.md 5).
 */
export interface PlatformNames {
  tokenType: string;
  tokenSubType: string;
  createError: ErrorName;
  label: string;
}

export const PLATFORM_NAMES: Record<Platform, PlatformNames> = {
  windows: {
    tokenType: 'enrollment',
    tokenSubType: 'standard',
    createError: 'WIN_TOKEN_CREATE',
    label: 'Windows',
  },
  apple: {
    tokenType: 'user',
    tokenSubType: 'standard',
    createError: 'ADM_TOKEN_CREATE',
    label: 'Apple',
  },
};
