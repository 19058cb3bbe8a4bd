import { mintApiKey } from '../../auth/api-key-credentials.ts';
import type { CredentialCheck } from '../../auth/credential-check.ts';
import type { Database } from '../../db/client.ts';
import { validationError } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import { newId } from '../../lib/ids.ts';
import { createApiKeysRepo } from '../api-keys/api-keys.repo.ts';
import { createOrganizationsRepo, type OrganizationRecord } from './organizations.repo.ts';
import { PLATFORMS } from '../../platforms/platforms.ts';
import { DEFAULT_PLAN, PLANS } from './plans.ts';

export interface NewOrganization {
  slug: string;
  name: string;
  plan?: string | undefined;
  language?: string | undefined;
}

/** Enterprise enrollment settings last a year, as Apple's MDM server tokens do. */
const ENTERPRISE_LIFETIME_MS = 365 * 24 * 3600 * 1000;

export function createOrganizationsService(deps: { database: Database; clock: Clock; check: CredentialCheck }) {
  return {
    /**
     * Creates an organization with its Windows and Apple enterprises and a first admin key,
     * all in one transaction. The key's secret is returned here and nowhere else.
     */
    async create(input: NewOrganization): Promise<{ organization: OrganizationRecord; adminKey: string }> {
      const planName = input.plan ?? DEFAULT_PLAN;
      const plan = PLANS[planName];
      const errors = [];
      if (!/^(?![a-fA-F0-9]{24}$)[a-zA-Z0-9-]{3,64}$/.test(input.slug)) {
        errors.push({ path: 'slug', message: 'must be 3 to 64 letters, digits or dashes, and not look like an id' });
      }
      if (!input.name.trim() || input.name.length > 256) errors.push({ path: 'name', message: 'must be 1 to 256 characters' });
      if (!plan) errors.push({ path: 'plan', message: `must be one of ${Object.keys(PLANS).join(', ')}` });
      if (errors.length || !plan) throw validationError(errors);

      const now = deps.clock.now();
      return deps.database.db.transaction(async (tx) => {
        const orgs = createOrganizationsRepo(tx);
        if (await orgs.findByIdOrSlug(input.slug)) {
          throw validationError([{ path: 'slug', message: `is already taken: ${input.slug}` }]);
        }
        const organization = await orgs.insert({
          id: newId(),
          slug: input.slug,
          name: input.name.trim(),
          language: input.language ?? 'en',
          planName,
          planPlatforms: plan.platforms,
          planMaxOpenTokens: plan.maxOpenTokens,
          createdAt: now,
          updatedAt: now,
        });
        for (const platform of PLATFORMS) {
          await orgs.insertEnterprise({
            id: newId(),
            organizationId: organization.id,
            platform,
            name: `${organization.name} ${platform === 'windows' ? 'Windows' : 'Apple'} enterprise`,
            config: {},
            serverExpirationDate: new Date(now.getTime() + ENTERPRISE_LIFETIME_MS),
            mobileConfigSigned: platform === 'apple',
            createdAt: now,
            updatedAt: now,
          });
        }
        const { secret, row } = mintApiKey(organization.id, { name: 'First admin key', role: 'admin' }, now, deps.check);
        await createApiKeysRepo(tx).insert(row);
        return { organization, adminKey: secret };
      });
    },

    async find(idOrSlug: string): Promise<OrganizationRecord | undefined> {
      return createOrganizationsRepo(deps.database.db).findByIdOrSlug(idOrSlug);
    },

    async isEmpty(): Promise<boolean> {
      return (await createOrganizationsRepo(deps.database.db).count()) === 0;
    },
  };
}

export type OrganizationsService = ReturnType<typeof createOrganizationsService>;
