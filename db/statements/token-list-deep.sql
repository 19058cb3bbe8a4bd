-- The token list, deep pages (token-page-marks.repo.ts): an offset of DEEP_PAGE_OFFSET (1000)
-- or more, no policy filter, a sort of the tokens' own columns (createdAt, expireAt,
-- displayName, type, subType). One statement reads the list's version, its nearest mark and the
-- page; then the page's first token is marked at its offset, and older versions' marks dropped.

-- GET /v1/organizations/<organization>/mdm/windows/enterprise/enrollment-tokens?page=41&limit=25

-- 1 of 3; $1 = <organization>, $2 = 'windows', $3 = <organization>, $4 = 'windows',
-- --     $5 = 'live:createdAt:desc:', $6 = 1000, $7 = 1, $8 = <organization>, $9 = 'windows',
-- --     $10 = 'DELETED', $11 = 1, $12 = <organization>, $13 = 'windows', $14 = 'DELETED', $15 = 1000
with "list_version" as (
  select coalesce(sum("changes"), 0)::bigint as "v"
  from "token_counts"
  where ("token_counts"."organization_id" = $1 and "token_counts"."platform" = $2)),
      "list_mark" as (
  select "token_page_marks"."position" as "mark_position",
      "enrollment_tokens"."created_at" as "mark_key", "enrollment_tokens"."id" as "mark_id"
  from "token_page_marks"
  inner join "enrollment_tokens" on ("enrollment_tokens"."organization_id" = "token_page_marks"."organization_id" and "enrollment_tokens"."id" = "token_page_marks"."token_id")
  where ("token_page_marks"."organization_id" = $3 and "token_page_marks"."platform" = $4 and "token_page_marks"."shape" = $5 and "token_page_marks"."version" = (
      select v
      from list_version) and "token_page_marks"."position" <= $6)
  order by "token_page_marks"."position" desc
  limit $7), "list_first" as (
  select "created_at" as "first_key", "id" as "first_id"
  from "enrollment_tokens"
  where (("enrollment_tokens"."organization_id" = $8 and "enrollment_tokens"."platform" = $9 and "enrollment_tokens"."state" <> $10) and not exists (
      select 1
      from list_mark))
  order by "enrollment_tokens"."created_at" desc, "enrollment_tokens"."id" desc
  limit $11)
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
  limit 1), (
  select v
  from list_version), (
  select mark_position
  from list_mark)
from "enrollment_tokens"
inner join (
  select "id"
  from "enrollment_tokens"
  where (("enrollment_tokens"."organization_id" = $12 and "enrollment_tokens"."platform" = $13 and "enrollment_tokens"."state" <> $14) and ("enrollment_tokens"."created_at",
      "enrollment_tokens"."id") <= (coalesce((
          select mark_key
          from list_mark), (
          select first_key
          from list_first)), coalesce((
          select mark_id
          from list_mark), (
          select first_id
          from list_first))))
  order by "enrollment_tokens"."created_at" desc, "enrollment_tokens"."id" desc
  limit 25
  offset $15 - coalesce((
      select mark_position
      from list_mark), 0)) "page_ids" on "page_ids"."id" = "enrollment_tokens"."id"
left join "mdm_users" on ("mdm_users"."id" = "enrollment_tokens"."mdm_user_id" and "mdm_users"."organization_id" = "enrollment_tokens"."organization_id")
order by "enrollment_tokens"."created_at" desc, "enrollment_tokens"."id" desc;

-- 2 of 3; $1 = <organization>, $2 = 'windows'
select coalesce(sum("total" - "deleted"), 0)
from "token_counts"
where ("token_counts"."organization_id" = $1 and "token_counts"."platform" = $2);

-- 3 of 3; $1 = <organization>, $2 = 'windows', $3 = 1001, $4 = <organization>, $5 = 'windows',
-- --     $6 = 'live:createdAt:desc:', $7 = 1001, $8 = 1000, $9 = <id>
with pruned as (
  delete
  from "token_page_marks"
  where (organization_id, platform, shape, version, position) in (
    select organization_id, platform, shape, version, position
    from "token_page_marks"
    where organization_id = $1 and platform = $2 and version < $3
    for
    update skip locked)
    )
insert into "token_page_marks" (organization_id, platform, shape, version, position, token_id)
    values ($4, $5, $6, $7, $8, $9)
on conflict do nothing;
