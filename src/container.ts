import type { Config } from './config.ts';
import type { Database } from './db/client.ts';
import type { Clock } from './lib/clock.ts';
import { createApiKeysService } from './modules/api-keys/api-keys.service.ts';
import { createOrganizationsService } from './modules/organizations/organizations.service.ts';

export interface ContainerDeps {
  config: Config;
  database: Database;
  clock: Clock;
}

/** The one place where services are wired from the external systems they use. */
export function createContainer(deps: ContainerDeps) {
  const { database, clock } = deps;
  return {
    config: deps.config,
    database,
    clock,
    apiKeys: createApiKeysService({ database, clock }),
    organizations: createOrganizationsService({ database, clock }),
  };
}

export type Container = ReturnType<typeof createContainer>;
