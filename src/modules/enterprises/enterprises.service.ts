import type { Database } from '../../db/client.ts';
import { notFound } from '../../errors.ts';
import type { Platform } from '../../platforms/platforms.ts';
import type { AuthContext } from '../../auth/auth-context.ts';
import { createEnterprisesRepo } from './enterprises.repo.ts';
import type { AdmEnterpriseView, WinEnterpriseView } from './enterprises.schemas.ts';
import { toEnterpriseView } from './enterprises.views.ts';

export function createEnterprisesService(deps: { database: Database }) {
  return {
    async get(auth: AuthContext, platform: Platform): Promise<WinEnterpriseView | AdmEnterpriseView> {
      const row = await createEnterprisesRepo(deps.database.db).get(auth.organization.id, platform);
      if (!row) throw notFound();
      return toEnterpriseView(platform, row);
    },
  };
}

export type EnterprisesService = ReturnType<typeof createEnterprisesService>;
