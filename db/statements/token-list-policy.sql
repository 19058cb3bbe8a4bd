-- The token list with a policy filter (token-policy-list.repo.ts). The policy alone, createdAt
-- sort: the page is a range of token_policies' primary key (named, planned once). The policy
-- alone, another sort: the offset walk with `policy_ids @> array[$n]`, unnamed (planned per
-- value). The total of a policy alone comes from token_policy_counts. With an MDM user too, that
-- user's few tokens are read and counted from the user index.

-- GET /v1/organizations/<organization>/mdm/windows/enterprise/enrollment-tokens?win-policy=<policy>

-- 1 of 2; $1 = <organization>, $2 = 'windows', $3 = <policy>, $4 = false, $5 = 0
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
  select "token_id"
  from "token_policies"
  where ("token_policies"."organization_id" = $1 and "token_policies"."platform" = $2 and "token_policies"."policy_id" = $3 and "token_policies"."deleted" = $4)
  order by "token_policies"."created_at" desc, "token_policies"."token_id" desc
  limit 25
  offset $5) "page_ids" on "page_ids"."token_id" = "enrollment_tokens"."id"
left join "mdm_users" on ("mdm_users"."id" = "enrollment_tokens"."mdm_user_id" and "mdm_users"."organization_id" = "enrollment_tokens"."organization_id")
order by "enrollment_tokens"."created_at" desc, "enrollment_tokens"."id" desc;

-- 2 of 2; $1 = <organization>, $2 = 'windows', $3 = <policy>
select coalesce(sum("total" - "deleted"), 0)
from "token_policy_counts"
where ("token_policy_counts"."organization_id" = $1 and "token_policy_counts"."platform" = $2 and "token_policy_counts"."policy_id" = $3);

-- GET /v1/organizations/<organization>/mdm/windows/enterprise/enrollment-tokens?win-policy=<policy>&sort=displayName:asc

-- 1 of 2; $1 = <organization>, $2 = 'windows', $3 = 'DELETED', $4 = <policy>, $5 = 0
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
  where ("enrollment_tokens"."organization_id" = $1 and "enrollment_tokens"."platform" = $2 and "enrollment_tokens"."state" <> $3 and "enrollment_tokens"."policy_ids" @> array[$4]::text[])
  order by "enrollment_tokens"."display_name" asc, "enrollment_tokens"."id" asc
  limit 25
  offset $5) "page_ids" on "page_ids"."id" = "enrollment_tokens"."id"
left join "mdm_users" on ("mdm_users"."id" = "enrollment_tokens"."mdm_user_id" and "mdm_users"."organization_id" = "enrollment_tokens"."organization_id")
order by "enrollment_tokens"."display_name" asc, "enrollment_tokens"."id" asc;

-- 2 of 2; $1 = <organization>, $2 = 'windows', $3 = <policy>
select coalesce(sum("total" - "deleted"), 0)
from "token_policy_counts"
where ("token_policy_counts"."organization_id" = $1 and "token_policy_counts"."platform" = $2 and "token_policy_counts"."policy_id" = $3);

-- GET /v1/organizations/<organization>/mdm/windows/enterprise/enrollment-tokens?win-policy=<policy>&mdm-user=<mdm user>

-- 1 of 2; $1 = <organization>, $2 = 'windows', $3 = 'DELETED', $4 = <mdm user>, $5 = <policy>,
-- --     $6 = 0
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
  where ("enrollment_tokens"."organization_id" = $1 and "enrollment_tokens"."platform" = $2 and "enrollment_tokens"."state" <> $3 and "enrollment_tokens"."mdm_user_id" = $4 and "enrollment_tokens"."policy_ids" @> array[$5]::text[])
  order by "enrollment_tokens"."created_at" desc, "enrollment_tokens"."id" desc
  limit 25
  offset $6) "page_ids" on "page_ids"."id" = "enrollment_tokens"."id"
left join "mdm_users" on ("mdm_users"."id" = "enrollment_tokens"."mdm_user_id" and "mdm_users"."organization_id" = "enrollment_tokens"."organization_id")
order by "enrollment_tokens"."created_at" desc, "enrollment_tokens"."id" desc;

-- 2 of 2; $1 = <organization>, $2 = 'windows', $3 = 'DELETED', $4 = <mdm user>, $5 = <policy>
select count(*)
from "enrollment_tokens"
where ("enrollment_tokens"."organization_id" = $1 and "enrollment_tokens"."platform" = $2 and "enrollment_tokens"."state" <> $3 and "enrollment_tokens"."mdm_user_id" = $4 and "enrollment_tokens"."policy_ids" @> array[$5]::text[]);
