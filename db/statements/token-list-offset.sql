-- The token list, offset walk (token.repo.ts buildListStatements): every page shallower than
-- DEEP_PAGE_OFFSET (1000 rows), and every depth for the state, updatedAt and mdmUser.email sorts
-- (they read the clock or the users). A subquery takes the page's ids from an index, the outer
-- query joins what the views show. The total: from the token_counts counters without a filter,
-- counted with an MDM user filter. Named prepared statements, one per shape.

-- GET /v1/organizations/<organization>/mdm/windows/enterprise/enrollment-tokens

-- 1 of 2; $1 = <organization>, $2 = 'windows', $3 = 'DELETED', $4 = 0
select "enrollment_tokens"."id", "enrollment_tokens"."organization_id",
    "enrollment_tokens"."platform", "enrollment_tokens"."enterprise_id",
    "enrollment_tokens"."device_id", "enrollment_tokens"."mdm_user_id",
    "enrollment_tokens"."display_name", "enrollment_tokens"."tags", "enrollment_tokens"."state",
    "enrollment_tokens"."config", "enrollment_tokens"."type", "enrollment_tokens"."sub_type",
    "enrollment_tokens"."language", "enrollment_tokens"."send_email",
    "enrollment_tokens"."email_text", "enrollment_tokens"."segment_id",
    "enrollment_tokens"."link_secret", "enrollment_tokens"."enroll_code",
    "enrollment_tokens"."policy_assignments", "enrollment_tokens"."policy_ids",
    "enrollment_tokens"."vpp_location_id", "enrollment_tokens"."configuration",
    "enrollment_tokens"."profiles", "enrollment_tokens"."applications",
    "enrollment_tokens"."expire_at", "enrollment_tokens"."done_at",
    "enrollment_tokens"."created_at", "enrollment_tokens"."updated_at", "mdm_users"."email", (
  select json_build_object('status', o.status, 'attempts', o.attempts, 'lastError', o.last_error,
      'sentAt', to_char(o.sent_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
  from email_outbox o
  where o.organization_id = "enrollment_tokens"."organization_id" and o.token_id = "enrollment_tokens"."id"
  order by o.created_at desc, o.id desc
  limit 1)
from "enrollment_tokens"
inner join (
  select "id"
  from "enrollment_tokens"
  where ("enrollment_tokens"."organization_id" = $1 and "enrollment_tokens"."platform" = $2 and "enrollment_tokens"."state" <> $3)
  order by "enrollment_tokens"."created_at" desc, "enrollment_tokens"."id" desc
  limit 25
  offset $4) "page_ids" on "page_ids"."id" = "enrollment_tokens"."id"
left join "mdm_users" on ("mdm_users"."id" = "enrollment_tokens"."mdm_user_id" and "mdm_users"."organization_id" = "enrollment_tokens"."organization_id")
order by "enrollment_tokens"."created_at" desc, "enrollment_tokens"."id" desc;

-- 2 of 2; $1 = <organization>, $2 = 'windows'
select coalesce(sum("total" - "deleted"), 0)
from "token_counts"
where ("token_counts"."organization_id" = $1 and "token_counts"."platform" = $2);

-- GET /v1/organizations/<organization>/mdm/windows/enterprise/enrollment-tokens?mdm-user=<mdm user>&sort=mdmUser.email:asc

-- 1 of 2; $1 = <organization>, $2 = 'windows', $3 = 'DELETED', $4 = <mdm user>, $5 = 0
select "enrollment_tokens"."id", "enrollment_tokens"."organization_id",
    "enrollment_tokens"."platform", "enrollment_tokens"."enterprise_id",
    "enrollment_tokens"."device_id", "enrollment_tokens"."mdm_user_id",
    "enrollment_tokens"."display_name", "enrollment_tokens"."tags", "enrollment_tokens"."state",
    "enrollment_tokens"."config", "enrollment_tokens"."type", "enrollment_tokens"."sub_type",
    "enrollment_tokens"."language", "enrollment_tokens"."send_email",
    "enrollment_tokens"."email_text", "enrollment_tokens"."segment_id",
    "enrollment_tokens"."link_secret", "enrollment_tokens"."enroll_code",
    "enrollment_tokens"."policy_assignments", "enrollment_tokens"."policy_ids",
    "enrollment_tokens"."vpp_location_id", "enrollment_tokens"."configuration",
    "enrollment_tokens"."profiles", "enrollment_tokens"."applications",
    "enrollment_tokens"."expire_at", "enrollment_tokens"."done_at",
    "enrollment_tokens"."created_at", "enrollment_tokens"."updated_at", "mdm_users"."email", (
  select json_build_object('status', o.status, 'attempts', o.attempts, 'lastError', o.last_error,
      'sentAt', to_char(o.sent_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
  from email_outbox o
  where o.organization_id = "enrollment_tokens"."organization_id" and o.token_id = "enrollment_tokens"."id"
  order by o.created_at desc, o.id desc
  limit 1)
from "enrollment_tokens"
inner join (
  select "enrollment_tokens"."id"
  from "enrollment_tokens"
  inner join "mdm_users" on ("mdm_users"."id" = "enrollment_tokens"."mdm_user_id" and "mdm_users"."organization_id" = "enrollment_tokens"."organization_id")
  where ("enrollment_tokens"."organization_id" = $1 and "enrollment_tokens"."platform" = $2 and "enrollment_tokens"."state" <> $3 and "enrollment_tokens"."mdm_user_id" = $4)
  order by "mdm_users"."email" asc, "enrollment_tokens"."id" asc
  limit 25
  offset $5) "page_ids" on "page_ids"."id" = "enrollment_tokens"."id"
left join "mdm_users" on ("mdm_users"."id" = "enrollment_tokens"."mdm_user_id" and "mdm_users"."organization_id" = "enrollment_tokens"."organization_id")
order by "mdm_users"."email" asc, "enrollment_tokens"."id" asc;

-- 2 of 2; $1 = <organization>, $2 = 'windows', $3 = 'DELETED', $4 = <mdm user>
select count(*)
from "enrollment_tokens"
where ("enrollment_tokens"."organization_id" = $1 and "enrollment_tokens"."platform" = $2 and "enrollment_tokens"."state" <> $3 and "enrollment_tokens"."mdm_user_id" = $4);

-- GET /v1/organizations/<organization>/mdm/windows/enterprise/enrollment-tokens?sort=state:asc&limit=50

-- 1 of 2; $1 = <organization>, $2 = 'windows', $3 = 'DELETED', $4 = <now>, $5 = 0, $6 = <now>
select "enrollment_tokens"."id", "enrollment_tokens"."organization_id",
    "enrollment_tokens"."platform", "enrollment_tokens"."enterprise_id",
    "enrollment_tokens"."device_id", "enrollment_tokens"."mdm_user_id",
    "enrollment_tokens"."display_name", "enrollment_tokens"."tags", "enrollment_tokens"."state",
    "enrollment_tokens"."config", "enrollment_tokens"."type", "enrollment_tokens"."sub_type",
    "enrollment_tokens"."language", "enrollment_tokens"."send_email",
    "enrollment_tokens"."email_text", "enrollment_tokens"."segment_id",
    "enrollment_tokens"."link_secret", "enrollment_tokens"."enroll_code",
    "enrollment_tokens"."policy_assignments", "enrollment_tokens"."policy_ids",
    "enrollment_tokens"."vpp_location_id", "enrollment_tokens"."configuration",
    "enrollment_tokens"."profiles", "enrollment_tokens"."applications",
    "enrollment_tokens"."expire_at", "enrollment_tokens"."done_at",
    "enrollment_tokens"."created_at", "enrollment_tokens"."updated_at", "mdm_users"."email", (
  select json_build_object('status', o.status, 'attempts', o.attempts, 'lastError', o.last_error,
      'sentAt', to_char(o.sent_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
  from email_outbox o
  where o.organization_id = "enrollment_tokens"."organization_id" and o.token_id = "enrollment_tokens"."id"
  order by o.created_at desc, o.id desc
  limit 1)
from "enrollment_tokens"
inner join (
  select "id"
  from "enrollment_tokens"
  where ("enrollment_tokens"."organization_id" = $1 and "enrollment_tokens"."platform" = $2 and "enrollment_tokens"."state" <> $3)
  order by (case when ("enrollment_tokens"."state" = 'PENDING' and "enrollment_tokens"."expire_at" <= $4::timestamptz) then 'EXPIRED' else "enrollment_tokens"."state" end) asc,
      "enrollment_tokens"."id" asc
  limit 50
  offset $5) "page_ids" on "page_ids"."id" = "enrollment_tokens"."id"
left join "mdm_users" on ("mdm_users"."id" = "enrollment_tokens"."mdm_user_id" and "mdm_users"."organization_id" = "enrollment_tokens"."organization_id")
order by (case when ("enrollment_tokens"."state" = 'PENDING' and "enrollment_tokens"."expire_at" <= $6::timestamptz) then 'EXPIRED' else "enrollment_tokens"."state" end) asc,
    "enrollment_tokens"."id" asc;

-- 2 of 2; $1 = <organization>, $2 = 'windows'
select coalesce(sum("total" - "deleted"), 0)
from "token_counts"
where ("token_counts"."organization_id" = $1 and "token_counts"."platform" = $2);
