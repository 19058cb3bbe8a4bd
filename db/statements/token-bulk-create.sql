-- POST .../enrollment-tokens/bulk (token-lifecycle.service.ts issueBulk): the references, the
-- users (created when new), the plan's count, then one statement per 500 tokens that inserts them
-- with their audit events, outbox emails and webhook deliveries (db/bulk-insert.ts). It runs in one
-- transaction (BEGIN and COMMIT are left out here: the PGlite driver sends them on its own).

-- POST /v1/organizations/<organization>/mdm/windows/enterprise/enrollment-tokens/bulk {"userEmails":["known@example.com","new@example.com"],"sendEmail":true,"tags":["review"],"winPolicyId":"<policy>"}

-- 1 of 7; $1 = <organization>, $2 = 'windows', $3 = <policy>
select "id", "organization_id", "platform", "name", "config", "details", "version", "created_at",
    "updated_at", "deleted_at"
from "policies"
where ("policies"."organization_id" = $1 and "policies"."platform" = $2 and "policies"."id" in ($3) and "policies"."deleted_at" is null);

-- 2 of 7; $1 = <organization>, $2 = 'known@example.com', $3 = 'new@example.com'
select "id", "organization_id", "email", "name", "language", "tags", "created_at", "updated_at",
    "deleted_at"
from "mdm_users"
where ("mdm_users"."organization_id" = $1 and "mdm_users"."email" in ($2,
    $3) and "mdm_users"."deleted_at" is null);

-- 3 of 7; $1 = <json: 1 rows>
insert into "mdm_users" ("id", "organization_id", "email", "name", "language", "tags", "created_at",
    "updated_at")
select "id", "organization_id", "email", "name", "language", "tags", "created_at", "updated_at"
from json_to_recordset($1::json) as r("id" varchar(24), "organization_id" varchar(24), "email" text,
    "name" text, "language" text, "tags" text[], "created_at" timestamp (3) with time zone,
    "updated_at" timestamp (3) with time zone)
on conflict do nothing
returning "id", "organization_id", "email", "name", "language", "tags", "created_at", "updated_at",
    "deleted_at";

-- 4 of 7; $1 = 'openroll.email:<organization>'
select pg_advisory_xact_lock(hashtextextended($1, 0));

-- 5 of 7; $1 = <organization>, $2 = '2026-03-01T00:00:00.000Z'
select count(*) as count
from "email_outbox"
where ("email_outbox"."organization_id" = $1 and "email_outbox"."created_at" >= $2);

-- 6 of 7; $1 = <organization>, $2 = true
select "id", "events"
from "webhook_endpoints"
where ("webhook_endpoints"."organization_id" = $1 and "webhook_endpoints"."enabled" = $2);

-- 7 of 7; $1 = <json: 2 rows>, $2 = <json: 4 rows>, $3 = <json: 2 rows>, $4 = <json: 2 rows>
with parent as (
  insert into "enrollment_tokens" ("id", "organization_id", "platform", "enterprise_id",
      "device_id", "mdm_user_id", "display_name", "tags", "state", "config", "type", "sub_type",
      "language", "send_email", "email_text", "segment_id", "link_secret", "enroll_code",
      "policy_assignments", "policy_ids", "vpp_location_id", "configuration", "profiles",
      "applications", "expire_at", "done_at", "created_at", "updated_at")
  select "id", "organization_id", "platform", "enterprise_id", "device_id", "mdm_user_id",
      "display_name", "tags", "state", "config", "type", "sub_type", "language", "send_email",
      "email_text", "segment_id", "link_secret", "enroll_code", "policy_assignments", "policy_ids",
      "vpp_location_id", "configuration", "profiles", "applications", "expire_at", "done_at",
      "created_at", "updated_at"
  from json_to_recordset($1::json) as r("id" varchar(24), "organization_id" varchar(24),
      "platform" text, "enterprise_id" varchar(24), "device_id" varchar(24),
      "mdm_user_id" varchar(24), "display_name" text, "tags" text[], "state" text, "config" jsonb,
      "type" text, "sub_type" text, "language" text, "send_email" boolean, "email_text" text,
      "segment_id" integer, "link_secret" text, "enroll_code" text, "policy_assignments" jsonb,
      "policy_ids" text[], "vpp_location_id" varchar(24), "configuration" jsonb, "profiles" jsonb,
      "applications" jsonb, "expire_at" timestamp (3) with time zone,
      "done_at" timestamp (3) with time zone, "created_at" timestamp (3) with time zone,
      "updated_at" timestamp (3) with time zone)
  on conflict do nothing
  returning "id", "organization_id", "platform", "enterprise_id", "device_id", "mdm_user_id",
      "display_name", "tags", "state", "config", "type", "sub_type", "language", "send_email",
      "email_text", "segment_id", "link_secret", "enroll_code", "policy_assignments", "policy_ids",
      "vpp_location_id", "configuration", "profiles", "applications", "expire_at", "done_at",
      "created_at", "updated_at"), "dependent_0" as (
  insert into "token_events" ("organization_id", "token_id", "type", "actor_key_id", "at",
      "changes")
  select "organization_id", "token_id", "type", "actor_key_id", "at", "changes"
  from rows from (json_to_recordset($2::json) as ("organization_id" varchar(24),
      "token_id" varchar(24), "type" text, "actor_key_id" varchar(24),
      "at" timestamp (3) with time zone, "changes" jsonb)) with ordinality as r("organization_id",
      "token_id", "type", "actor_key_id", "at", "changes", row_number)
  where r."token_id" in (
    select "id"
    from parent)
  order by r.row_number), "dependent_1" as (
  insert into "email_outbox" ("id", "organization_id", "token_id", "recipient", "status",
      "attempts", "next_attempt_at", "created_at", "updated_at")
  select "id", "organization_id", "token_id", "recipient", "status", "attempts", "next_attempt_at",
      "created_at", "updated_at"
  from rows from (json_to_recordset($3::json) as ("id" varchar(24), "organization_id" varchar(24),
      "token_id" varchar(24), "recipient" text, "status" text, "attempts" integer,
      "next_attempt_at" timestamp (3) with time zone, "created_at" timestamp (3) with time zone,
      "updated_at" timestamp (3) with time zone)) with ordinality as r("id", "organization_id",
      "token_id", "recipient", "status", "attempts", "next_attempt_at", "created_at", "updated_at",
      row_number)
  where r."token_id" in (
    select "id"
    from parent)
  order by r.row_number), "dependent_2" as (
  insert into "webhook_deliveries" ("organization_id", "id", "endpoint_id", "token_id",
      "event_type", "payload", "status", "attempts", "next_attempt_at", "created_at", "updated_at")
  select "organization_id", "id", "endpoint_id", "token_id", "event_type", "payload", "status",
      "attempts", "next_attempt_at", "created_at", "updated_at"
  from rows from (json_to_recordset($4::json) as ("organization_id" varchar(24), "id" varchar(24),
      "endpoint_id" varchar(24), "token_id" varchar(24), "event_type" text, "payload" text,
      "status" text, "attempts" integer, "next_attempt_at" timestamp (3) with time zone,
      "created_at" timestamp (3) with time zone,
      "updated_at" timestamp (3) with time zone)) with ordinality as r("organization_id", "id",
      "endpoint_id", "token_id", "event_type", "payload", "status", "attempts", "next_attempt_at",
      "created_at", "updated_at", row_number)
  where r."token_id" in (
    select "id"
    from parent)
  order by r.row_number)
select *
from parent;
