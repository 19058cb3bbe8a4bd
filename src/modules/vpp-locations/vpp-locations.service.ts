import type { Database } from '../../db/client.ts';
import { notFound } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import { newId } from '../../lib/ids.ts';
import { NEWEST_FIRST } from '../../lib/listing.ts';
import { parseSort, toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import type { AuthContext } from '../../auth/auth-context.ts';
import { createVppLocationsRepo } from './vpp-locations.repo.ts';
import { VPP_LOCATION_SORT_FIELDS, type VppLocationConfigInput, type VppLocationView } from './vpp-locations.schemas.ts';
import { toVppLocationView } from './vpp-locations.views.ts';

export interface VppLocationInput {
  name?: string | undefined;
  config?: VppLocationConfigInput | undefined;
}

export interface VppLocationQuery extends PageRequest {
  sort?: string | undefined;
}

/** Country codes are stored the way ISO 3166 writes them: upper-case. */
function normalizeConfig(config: VppLocationConfigInput): Record<string, unknown> {
  return config.countryISO2ACode === undefined ? { ...config } : { ...config, countryISO2ACode: config.countryISO2ACode.toUpperCase() };
}

export function createVppLocationsService(deps: { database: Database; clock: Clock }) {
  const repo = () => createVppLocationsRepo(deps.database.db);
  const found = (row: Parameters<typeof toVppLocationView>[0] | undefined): VppLocationView => {
    if (!row) throw notFound();
    return toVppLocationView(row);
  };

  return {
    async list(auth: AuthContext, query: VppLocationQuery): Promise<Page<VppLocationView>> {
      const sort = parseSort(query.sort, VPP_LOCATION_SORT_FIELDS, NEWEST_FIRST);
      const page = { page: query.page, limit: query.limit };
      const { items, total } = await repo().list(auth.organization.id, sort, page);
      return toPage(items.map(toVppLocationView), total, page);
    },

    async get(auth: AuthContext, id: string): Promise<VppLocationView> {
      return found(await repo().get(auth.organization.id, id.toLowerCase()));
    },

    async create(auth: AuthContext, input: { name: string; config: VppLocationConfigInput }): Promise<VppLocationView> {
      const now = deps.clock.now();
      const row = await repo().insert(auth.organization.id, {
        id: newId(),
        name: input.name,
        config: normalizeConfig(input.config),
        createdAt: now,
        updatedAt: now,
      });
      return found(row);
    },

    async update(auth: AuthContext, id: string, input: VppLocationInput): Promise<VppLocationView> {
      const changes = { name: input.name, config: input.config && normalizeConfig(input.config) };
      return found(await repo().update(auth.organization.id, id.toLowerCase(), changes, deps.clock.now()));
    },

    /** Soft delete: tokens made with the location keep showing it. */
    async remove(auth: AuthContext, id: string): Promise<VppLocationView> {
      return found(await repo().softDelete(auth.organization.id, id.toLowerCase(), deps.clock.now()));
    },
  };
}

export type VppLocationsService = ReturnType<typeof createVppLocationsService>;
