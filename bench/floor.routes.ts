import { sql } from 'drizzle-orm';
import type { FastifyPluginAsync } from 'fastify';
import pg from 'pg';
import type { Container } from '../src/container.ts';

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const iso = (column: string) => `to_char(${column} at time zone 'UTC', ${ISO})`;

/**
 * The page of GET .../windows/enterprise/enrollment-tokens (no filter, newest first), built
 * whole by PostgreSQL: the same tables, fields, order, page and exact totalDocs (from the
 * trigger-kept counters, as the product reads it). row_to_json keeps the column order and
 * prints compactly, like the serializer. A token's effective state and updatedAt follow
 * src/modules/enrollment-tokens/token-state.ts; its policies render as toPolicyView does.
 */
const PAGE_SQL = `
with page_ids as (
  select t.id from enrollment_tokens t
  where t.organization_id = $1::text and t.platform = 'windows' and t.state <> 'DELETED'
  order by t.created_at desc, t.id desc
  limit $3::int offset $4::int
),
ent as (select id from enterprises where organization_id = $1::text and platform = 'windows'),
total as (
  select coalesce(sum(total - deleted), 0)::bigint as n from token_counts where organization_id = $1::text and platform = 'windows'
),
items as (
  select t.created_at, t.id as sort_id, row_to_json(r) as item
  from page_ids
  join enrollment_tokens t on t.organization_id = $1::text and t.id = page_ids.id
  left join mdm_users u on u.organization_id = t.organization_id and u.id = t.mdm_user_id
  cross join lateral (
    select case when t.state = 'PENDING' and t.expire_at <= $2::timestamptz then 'EXPIRED' else t.state end as state
  ) s
  cross join lateral (
    select
      t.id as "id",
      t.organization_id as "organizationId",
      (select id from ent) as "winEnterpriseId",
      t.device_id as "winDeviceId",
      json_build_object('id', t.mdm_user_id, 'email', coalesce(u.email, '')) as "mdmUser",
      t.display_name as "displayName",
      t.tags as "tags",
      s.state as "state",
      t.config as "config",
      t.type as "type",
      t.sub_type as "subType",
      ${iso(`case when s.state = 'EXPIRED' and t.state = 'PENDING' then t.expire_at else t.updated_at end`)} as "updatedAt",
      ${iso('t.created_at')} as "createdAt",
      ${iso('t.expire_at')} as "expireAt",
      $5::text || '/enroll/' || t.link_secret as "enrollmentLink",
      t.enroll_code as "enrollCode",
      (select a->>'policyId' from jsonb_array_elements(t.policy_assignments) with ordinality e(a, i)
        order by (a->>'priority')::int, i limit 1) as "winPolicyId",
      coalesce((
        select json_agg(json_build_object('winPolicyId', a->>'policyId', 'winPolicy', (
          select row_to_json(pv) from (
            select p.id as "id", p.organization_id as "organizationId", (select id from ent) as "winEnterpriseId",
              p.name as "name", p.config as "config",
              case when jsonb_typeof(p.details->'applications') = 'array' then p.details->'applications' else '[]' end as "applications",
              '[]'::json as "applicationsInfo",
              case when jsonb_typeof(p.details->'scripts') = 'array' then p.details->'scripts' else '[]' end as "scripts",
              '[]'::json as "scriptsInfo",
              case when jsonb_typeof(p.details->'admxConfigs') = 'array' then p.details->'admxConfigs' else '[]' end as "admxConfigs",
              '[]'::json as "admxConfigsInfo",
              p.details->'agentConfiguration' as "agentConfiguration",
              case when jsonb_typeof(p.details->'assets') = 'array' then p.details->'assets' else '[]' end as "assets",
              '[]'::json as "assetsInfo",
              case when jsonb_typeof(p.details->'settings') = 'array' then p.details->'settings' else '[]' end as "settings",
              p.version as "version", ${iso('p.updated_at')} as "updatedAt", ${iso('p.created_at')} as "createdAt"
            from policies p where p.organization_id = t.organization_id and p.id = a->>'policyId'
          ) pv), 'priority', a->'priority') order by i)
        from jsonb_array_elements(t.policy_assignments) with ordinality e(a, i)
      ), '[]') as "winPolicyAssignments",
      json_build_object('expirationTimestamp', ${iso('t.expire_at')}, 'email', (
        select json_build_object('status', o.status, 'attempts', o.attempts, 'sentAt', ${iso('o.sent_at')}, 'lastError', o.last_error)
        from email_outbox o where o.organization_id = t.organization_id and o.token_id = t.id
        order by o.created_at desc, o.id desc limit 1
      )) as "summary",
      t.send_email as "sendEmail",
      t.email_text as "emailText",
      t.segment_id as "segmentId"
  ) r
)
select json_build_object('status', true, 'data', json_build_object(
  'items', coalesce((select json_agg(item order by created_at desc, sort_id desc) from items), '[]'),
  'totalDocs', n,
  'limit', $3::int,
  'page', $6::int,
  'totalPages', ceil(n::numeric / $3::int)::bigint,
  'hasPrevPage', $6::int > 1,
  'hasNextPage', $6::int < ceil(n::numeric / $3::int),
  'prevPage', case when $6::int > 1 then $6::int - 1 end,
  'nextPage', case when $6::int < ceil(n::numeric / $3::int) then $6::int + 1 end
))::text as body
from total`;

/**
 * The benchmark's practical floor: the smallest handler that produces the list page. One
 * hand-written statement builds the whole JSON answer in the database and the route sends its
 * text as it is: no authentication, no ORM, no rendering, no serializer. Each list scenario is
 * reported as a ratio to it, beside the ratio to the ceiling. Registered by
 * bench/bench-server.ts through buildApp's `routes` option, with the server's own database.
 */
export const floorRoutes: FastifyPluginAsync<{ container: Container }> = async (app, { container }) => {
  const { db } = container.database;
  // A named prepared statement where the driver is a pool (the server on PostgreSQL or on the
  // embedded database's socket), planned once per connection as the product's list is; through
  // Drizzle elsewhere (the in-memory database of the tests).
  const pool = (db as unknown as { $client?: unknown }).$client;
  const parts = PAGE_SQL.split(/\$(\d)/);
  const run = (values: unknown[]): Promise<{ rows: unknown[] }> =>
    pool instanceof pg.Pool
      ? pool.query({ name: 'bench_floor_page', text: PAGE_SQL, values })
      : (db.execute(sql.join(parts.map((part, i) => (i % 2 ? sql`${values[Number(part) - 1]}` : sql.raw(part))))) as Promise<{ rows: unknown[] }>);
  app.get<{ Params: { org: string }; Querystring: { page?: string; limit?: string } }>('/bench/floor/:org', { schema: { hide: true } }, async (request, reply) => {
    const page = Math.max(1, Number(request.query.page ?? 1) || 1);
    const limit = Math.min(100, Math.max(1, Number(request.query.limit ?? 25) || 25));
    const values = [request.params.org, container.clock.now().toISOString(), limit, (page - 1) * limit, container.config.publicUrl, page];
    const result = await run(values);
    return reply.type('application/json; charset=utf-8').send((result.rows[0] as { body: string }).body);
  });
};
