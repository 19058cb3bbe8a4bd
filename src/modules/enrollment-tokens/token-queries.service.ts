import type { AuthContext } from '../../auth/auth-context.ts';
import type { Database } from '../../db/client.ts';
import { notFound } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import { parseSort, toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import type { RecipientToken, RecipientTokenKey } from '../../mail/recipient-token.ts';
import type { Platform } from '../../platforms/platforms.ts';
import type { PolicyCache } from '../policies/policy-cache.ts';
import { createTokenEventsRepo } from './token-events.repo.ts';
import { createTokenRepo, findTokenForRecipient, TOKEN_SORT_FIELDS, type TokenFilter } from './token.repo.ts';
import { renderRows, toEventView, toRecipientToken, type TokenEventView, type TokenView } from './token.views.ts';

export interface TokenListQuery extends PageRequest {
  sort?: string | undefined;
  mdmUserId?: string | undefined;
  policyId?: string | undefined;
  showDeleted: boolean;
}

/** Reads of tokens; every change goes through token-lifecycle.service.ts. */
export function createTokenQueries(deps: { database: Database; clock: Clock; publicUrl: string; policyCache?: PolicyCache }) {
  const db = deps.database.db;
  const base = () => ({ now: deps.clock.now(), publicUrl: deps.publicUrl, policyCache: deps.policyCache });

  return {
    async list(auth: AuthContext, platform: Platform, query: TokenListQuery): Promise<Page<TokenView>> {
      const view = base();
      const sort = parseSort(query.sort, TOKEN_SORT_FIELDS, { field: 'createdAt', direction: 'desc' });
      const filter: TokenFilter = { mdmUserId: query.mdmUserId?.toLowerCase(), policyId: query.policyId?.toLowerCase(), showDeleted: query.showDeleted };
      const page = { page: query.page, limit: query.limit };
      const { items, total } = await createTokenRepo(db).list(auth.organization.id, platform, filter, sort, page, view.now);
      return toPage(await renderRows(db, auth.organization.id, platform, items, view), total, page);
    },

    async get(auth: AuthContext, platform: Platform, id: string): Promise<TokenView> {
      const row = await createTokenRepo(db).findRow(auth.organization.id, platform, id.toLowerCase());
      if (!row) throw notFound();
      const [view] = await renderRows(db, auth.organization.id, platform, [row], base());
      return view!;
    },

    async events(auth: AuthContext, platform: Platform, id: string, page: PageRequest): Promise<Page<TokenEventView>> {
      const token = await createTokenRepo(db).get(auth.organization.id, platform, id.toLowerCase());
      if (!token) throw notFound();
      const { items, total } = await createTokenEventsRepo(db).listForToken(auth.organization.id, token.id, page);
      return toPage(items.map(toEventView), total, page);
    },

    /**
     * The token as the one it was issued to sees it: what the outbox sender renders the email
     * from and the enrollment page shows. container.ts hands this read to both.
     */
    async forRecipient(key: RecipientTokenKey): Promise<RecipientToken | undefined> {
      const row = await findTokenForRecipient(db, key);
      return row ? toRecipientToken(row.token, row.organizationName, base()) : undefined;
    },
  };
}

export type TokenQueries = ReturnType<typeof createTokenQueries>;
