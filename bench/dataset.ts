import { sql } from 'drizzle-orm';
import { loadConfig } from '../src/config.ts';
import { createContainer } from '../src/container.ts';
import type { Database } from '../src/db/client.ts';
import { systemClock } from '../src/lib/clock.ts';

export interface DatasetSpec {
  organizations: number;
  /** Tokens of the one large organization; the rest are spread over the others. */
  largeOrgTokens: number;
  otherTokens: number;
  largeOrgUsers: number;
  usersPerOtherOrg: number;
  policiesPerPlatform: number;
}

export const FULL: DatasetSpec = {
  organizations: 100,
  largeOrgTokens: 500_000,
  otherTokens: 500_000,
  largeOrgUsers: 50_000,
  usersPerOtherOrg: 500,
  policiesPerPlatform: 20,
};

export const QUICK: DatasetSpec = { ...FULL, largeOrgTokens: 50_000, otherTokens: 50_000, largeOrgUsers: 5_000, usersPerOtherOrg: 50 };

export interface LoadedOrg {
  id: string;
  slug: string;
  key: string;
  tokens: number;
  users: number;
}

export interface Dataset {
  large: LoadedOrg;
  others: LoadedOrg[];
  rows: number;
  seconds: number;
  rowsPerSecond: number;
}

/** Deterministic 24-hex ids from a seed text, so the loader can refer to rows it made. */
const hexId = (expr: string) => `substr(md5(${expr}), 1, 24)`;

/** The id of the n-th (1-based) MDM user and policy of an organization, as the loader makes them. */
export const userIdSql = (orgId: string, n: number) => hexId(`'${orgId}' || 'u' || ${n}`);

/**
 * Fills an empty database: organizations (with enterprises and admin keys) through the product's
 * own service, then users, policies and tokens with set-based SQL. Tokens are spread over the
 * four states: 5% DELETED, 5% DONE, 5% stored EXPIRED, 5% PENDING past expireAt (unswept), the
 * rest PENDING; 90% Windows, 10% Apple; every token has one policy assignment.
 */
export async function loadDataset(database: Database, env: Record<string, string>, spec: DatasetSpec, log: (line: string) => void): Promise<Dataset> {
  // The server's own environment (its database and server key), so the keys minted here are the server's.
  const container = createContainer({ config: loadConfig({ ...env, LOG_LEVEL: 'silent' }), database, clock: systemClock });
  const db = database.db;
  const started = performance.now();
  const orgs: LoadedOrg[] = [];
  const perOther = Math.floor(spec.otherTokens / (spec.organizations - 1));
  for (let i = 0; i < spec.organizations; i++) {
    const { organization, adminKey } = await container.organizations.create({ slug: `bench-${i}`, name: `Bench organization ${i}` });
    orgs.push({
      id: organization.id,
      slug: organization.slug,
      key: adminKey,
      tokens: i === 0 ? spec.largeOrgTokens : perOther,
      users: i === 0 ? spec.largeOrgUsers : spec.usersPerOtherOrg,
    });
  }
  let rows = 0;
  for (const [index, org] of orgs.entries()) {
    const o = `'${org.id}'`;
    await db.execute(
      sql.raw(`insert into mdm_users (id, organization_id, email, name, language, tags, created_at, updated_at)
        select ${hexId(`${o} || 'u' || g`)}, ${o}, 'user' || g || '@${org.slug}.example', 'User ' || g, 'en', '{}', now() - interval '1 second' * g, now()
        from generate_series(1, ${org.users}) g`),
    );
    await db.execute(
      sql.raw(`insert into policies (id, organization_id, platform, name, config, details, version, created_at, updated_at)
        select ${hexId(`${o} || 'p' || p || g`)}, ${o}, p, initcap(p) || ' policy ' || g, '{}', '{}', 0, now(), now()
        from generate_series(1, ${spec.policiesPerPlatform}) g, unnest(array['windows', 'apple']) p`),
    );
    const base = 1_700_000_000 + index * 10_000_000;
    await db.execute(
      sql.raw(`insert into enrollment_tokens (id, organization_id, platform, enterprise_id, device_id, mdm_user_id, display_name, tags,
          state, config, type, sub_type, language, send_email, email_text, segment_id, link_secret, enroll_code, policy_assignments,
          policy_ids, vpp_location_id, configuration, profiles, applications, expire_at, done_at, created_at, updated_at)
        select lpad(to_hex(${base} + g), 8, '0') || substr(md5(${o} || 't' || g), 1, 16), ${o}, x.platform,
          (select id from enterprises e where e.organization_id = ${o} and e.platform = x.platform),
          case when g % 20 = 1 then ${hexId(`'d' || ${o} || g`)} end,
          ${hexId(`${o} || 'u' || (g % ${org.users} + 1)`)},
          'Device ' || substr(md5('n' || g), 1, 8), array['fleet'],
          case g % 20 when 0 then 'DELETED' when 1 then 'DONE' when 2 then 'EXPIRED' else 'PENDING' end,
          '{}', case when x.platform = 'windows' then 'enrollment' else 'user' end, 'standard', 'en', false, '', null,
          substr(md5('s' || ${o} || g) || md5('t' || ${o} || g), 1, 43),
          'Z' || lpad(to_hex(${index} * 16777216 + g), 9, '0'),
          jsonb_build_array(jsonb_build_object('policyId', x.policy, 'priority', 0)), array[x.policy], null, null, '[]', '[]',
          case when g % 20 in (2, 3) then to_timestamp(${base} + g) + interval '1 hour' else now() + interval '30 days' end,
          case when g % 20 = 1 then to_timestamp(${base} + g) end,
          to_timestamp(${base} + g), to_timestamp(${base} + g)
        from generate_series(1, ${org.tokens}) g,
          lateral (select case when g % 10 = 0 then 'apple' else 'windows' end as platform) p0,
          lateral (select p0.platform, ${hexId(`${o} || 'p' || p0.platform || (g % ${spec.policiesPerPlatform} + 1)`)} as policy) x`),
    );
    rows += org.tokens + org.users + 2 * spec.policiesPerPlatform;
    if (index === 0 || index % 25 === 0) log(`  organization ${index}: ${org.tokens} tokens, ${org.users} users`);
  }
  // Index-only scans need the visibility map that VACUUM writes; statistics need ANALYZE.
  await db.execute(sql.raw('vacuum analyze'));
  const seconds = (performance.now() - started) / 1000;
  return { large: orgs[0]!, others: orgs.slice(1), rows, seconds, rowsPerSecond: Math.round(rows / seconds) };
}
