import type { Database } from '../../db/client.ts';
import { AppError, notFound } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import { constraintName, sqlState } from '../../lib/db-errors.ts';
import { normalizeEmail } from '../../lib/email-address.ts';
import { newId } from '../../lib/ids.ts';
import { NEWEST_FIRST } from '../../lib/listing.ts';
import { parseSort, toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import type { AuthContext } from '../../auth/auth-context.ts';
import { createMdmUsersRepo, MDM_USER_EMAIL_INDEX, type MdmUserChanges, type MdmUserRecord } from './mdm-users.repo.ts';
import { MDM_USER_SORT_FIELDS, type Language } from './mdm-users.schemas.ts';

export interface MdmUserView {
  id: string;
  organizationId: string;
  email: string;
  name: string;
  language: Language | null;
  tags: string[];
  createdAt: string;
  updatedAt: string;
}

export interface MdmUserInput {
  email: string;
  name?: string | undefined;
  language?: Language | undefined;
  tags?: string[] | undefined;
}

export interface MdmUserQuery extends PageRequest {
  sort?: string | undefined;
  search?: string | undefined;
  email?: string | undefined;
}

export function toMdmUserView(row: MdmUserRecord): MdmUserView {
  return {
    id: row.id,
    organizationId: row.organizationId,
    email: row.email,
    name: row.name,
    language: (row.language as Language | null) ?? null,
    tags: row.tags,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Two requests can both pass the pre-check; the partial unique index decides, and that is a 409 too. */
export function isEmailConflict(error: unknown): boolean {
  if (sqlState(error) !== '23505') return false;
  const constraint = constraintName(error);
  return constraint === undefined || constraint === MDM_USER_EMAIL_INDEX;
}

async function translateConflict<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (isEmailConflict(error)) throw new AppError('MDM_USER_EXISTS');
    throw error;
  }
}

export function createMdmUsersService(deps: { database: Database; clock: Clock }) {
  const repo = () => createMdmUsersRepo(deps.database.db);

  return {
    async list(auth: AuthContext, query: MdmUserQuery): Promise<Page<MdmUserView>> {
      const sort = parseSort(query.sort, MDM_USER_SORT_FIELDS, NEWEST_FIRST);
      const page = { page: query.page, limit: query.limit };
      const filter = { search: query.search || undefined, email: query.email === undefined ? undefined : normalizeEmail(query.email) };
      const { items, total } = await repo().list(auth.organization.id, filter, sort, page);
      return toPage(items.map(toMdmUserView), total, page);
    },

    async get(auth: AuthContext, id: string): Promise<MdmUserView> {
      const row = await repo().get(auth.organization.id, id.toLowerCase());
      if (!row) throw notFound();
      return toMdmUserView(row);
    },

    async create(auth: AuthContext, input: MdmUserInput): Promise<MdmUserView> {
      const orgId = auth.organization.id;
      const email = normalizeEmail(input.email);
      if (await repo().emailTaken(orgId, email)) throw new AppError('MDM_USER_EXISTS');
      const now = deps.clock.now();
      const row = await translateConflict(
        repo().insert(orgId, {
          id: newId(),
          email,
          name: input.name ?? '',
          language: input.language ?? null,
          tags: input.tags ?? [],
          createdAt: now,
          updatedAt: now,
        }),
      );
      return toMdmUserView(row);
    },

    async update(auth: AuthContext, rawId: string, input: Partial<MdmUserInput>): Promise<MdmUserView> {
      const orgId = auth.organization.id;
      const id = rawId.toLowerCase();
      const changes: MdmUserChanges = {};
      if (input.email !== undefined) changes.email = normalizeEmail(input.email);
      if (input.name !== undefined) changes.name = input.name;
      if (input.language !== undefined) changes.language = input.language;
      if (input.tags !== undefined) changes.tags = input.tags;
      // An unknown user is a 404 even when the email would clash (CONTRACT.md precedence).
      if (!(await repo().get(orgId, id))) throw notFound();
      if (changes.email !== undefined && (await repo().emailTaken(orgId, changes.email, id))) throw new AppError('MDM_USER_EXISTS');
      const row = await translateConflict(repo().update(orgId, id, changes, deps.clock.now()));
      if (!row) throw notFound();
      return toMdmUserView(row);
    },

    /** Soft delete: the email is free again, and tokens made for the user still show it. */
    async remove(auth: AuthContext, id: string): Promise<MdmUserView> {
      const row = await repo().softDelete(auth.organization.id, id.toLowerCase(), deps.clock.now());
      if (!row) throw notFound();
      return toMdmUserView(row);
    },
  };
}

export type MdmUsersService = ReturnType<typeof createMdmUsersService>;
