import { t } from './i18n.ts';
import type { TokenView } from './platform.ts';

/**
 * What a token is called in lists and headings: its display name, or, for a token made without
 * one (a bulk's are), whose it is; “(no name)” only when it has no user either.
 */
export function tokenTitle(tok: Pick<TokenView, 'displayName' | 'mdmUser'>): string {
  if (tok.displayName) return tok.displayName;
  return tok.mdmUser ? t('token.forUser', { email: tok.mdmUser.email }) : t('token.untitled');
}
