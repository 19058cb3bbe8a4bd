import { validationError } from '../errors.ts';

export interface Page<T> {
  items: T[];
  totalDocs: number;
  limit: number;
  page: number;
  totalPages: number;
  hasPrevPage: boolean;
  hasNextPage: boolean;
  prevPage: number | null;
  nextPage: number | null;
}

export interface PageRequest {
  page: number;
  limit: number;
}

export function toPage<T>(items: T[], totalDocs: number, { page, limit }: PageRequest): Page<T> {
  const totalPages = Math.ceil(totalDocs / limit);
  const hasPrevPage = page > 1;
  const hasNextPage = page < totalPages;
  return {
    items,
    totalDocs,
    limit,
    page,
    totalPages,
    hasPrevPage,
    hasNextPage,
    prevPage: hasPrevPage ? page - 1 : null,
    nextPage: hasNextPage ? page + 1 : null,
  };
}

export interface SortSpec<F extends string> {
  field: F;
  direction: 'asc' | 'desc';
}

/**
 * Parses `field` or `field:asc|desc` against a whitelist. The route schema already checked
 * the pattern; an unknown field is a validation error naming the query parameter.
 */
export function parseSort<F extends string>(raw: string | undefined, allowed: readonly F[], fallback: SortSpec<F>): SortSpec<F> {
  if (raw === undefined || raw === '') return fallback;
  const [name, dir] = raw.split(':');
  if (!name) return { field: fallback.field, direction: dir === 'asc' ? 'asc' : 'desc' };
  if (!(allowed as readonly string[]).includes(name)) {
    throw validationError([{ path: 'query.sort', message: `must sort by one of ${allowed.join(', ')}` }]);
  }
  return { field: name as F, direction: dir === 'asc' ? 'asc' : dir === 'desc' ? 'desc' : 'asc' };
}
