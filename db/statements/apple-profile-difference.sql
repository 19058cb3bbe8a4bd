-- An Apple policy's profiles changed (policies.service.ts update -> devices/apple-profile-sync.ts):
-- in the update's transaction, after the policy row, the tokens that assign it and enrolled a
-- device, their profiles and policies, then one statement (device-commands.repo.ts
-- queueProfileDifference) that compares each enrolled device's last InstallProfile/RemoveProfile
-- per PayloadIdentifier with what it must have, and queues the difference.

-- PUT /v1/organizations/<organization>/mdm/apple/enterprise/policies/<apple policy> (com.example.wifi changed, com.example.mail added, com.example.vpn removed)

-- 1 of 9; $1 = <organization>, $2 = 'apple', $3 = <apple policy>, $4 = 1
select "id", "organization_id", "platform", "name", "config", "details", "version", "created_at",
    "updated_at", "deleted_at"
from "policies"
where ("policies"."organization_id" = $1 and "policies"."platform" = $2 and "policies"."deleted_at" is null and "policies"."id" = $3)
limit $4
for
update;

-- 2 of 9; $1 = '{"profiles":[{"mobileconfig":"<plist version=\"1.0\"><dict><key>PayloadContent</key><array/><key>PayloadIdentifier</key><string>com.example.wifi</string><key>PayloadType</key><string>Configuration</string><key>PayloadUUID</key><string>5A1D7A3E-0C1B-4E6F-9B8A-7D6C5B4A3F22</string><key>PayloadVersion</key><integer>2</integer></dict></plist>"},{"mobileconfig":"<plist version=\"1.0\"><dict><key>PayloadContent</key><array/><key>PayloadIdentifier</key><string>com.example.mail</string><key>PayloadType</key><string>Configuration</string><key>PayloadUUID</key><string>5A1D7A3E-0C1B-4E6F-9B8A-7D6C5B4A3F21</string><key>PayloadVersion</key><integer>1</integer></dict></plist>"}]}',
-- --     $2 = <now>, $3 = <organization>, $4 = 'apple', $5 = <apple policy>
update "policies"
set "details" = "policies"."details" || $1::jsonb, "version" = "policies"."version" + 1,
    "updated_at" = $2
where ("policies"."organization_id" = $3 and "policies"."platform" = $4 and "policies"."deleted_at" is null and "policies"."id" = $5)
returning "id", "organization_id", "platform", "name", "config", "details", "version", "created_at",
    "updated_at", "deleted_at";

-- 3 of 9; $1 = <organization>, $2 = 'apple', $3 = 'DONE', $4 = <apple policy>
select "id"
from "enrollment_tokens"
where ("enrollment_tokens"."organization_id" = $1 and "enrollment_tokens"."platform" = $2 and "enrollment_tokens"."state" = $3 and "enrollment_tokens"."policy_ids" @> array[$4]::text[]);

-- 4 of 9; $1 = <organization>, $2 = 'apple', $3 = <id>
select "id", "device_id", "profiles", "policy_assignments"
from "enrollment_tokens"
where ("enrollment_tokens"."organization_id" = $1 and "enrollment_tokens"."platform" = $2 and "enrollment_tokens"."id" in ($3));

-- 5 of 9; $1 = <organization>, $2 = 'apple', $3 = <apple policy>
select "id", "details"
from "policies"
where ("policies"."organization_id" = $1 and "policies"."platform" = $2 and "policies"."id" in ($3));

-- 6 of 9; $1 = <json: 2 rows>, $2 = <organization>, $3 = 'ENROLLED', $4 = <id>,
-- --     $5 = <organization>, $6 = <organization>, $7 = <now>, $8 = <now>, $9 = <now>
with wanted as (
  select *
  from jsonb_to_recordset($1::jsonb) as w(token_id text, policy_id text, target text,
      mobileconfig text) ), devices as (
  select id as device_id, token_id
  from "apple_devices"
  where ("apple_devices"."organization_id" = $2 and "apple_devices"."state" = $3 and "apple_devices"."token_id" in ($4)) ),
      latest as (
  select distinct on (c.device_id, c.target) c.device_id, c.target, c.type, c.source_policy_id,
      c.payload->>'mobileconfig' as mobileconfig
  from "device_commands" c join devices dv on dv.device_id = c.device_id
  where c.organization_id = $5 and c.type in ('InstallProfile',
      'RemoveProfile') and c.target is not null
  order by c.device_id, c.target, c.seq desc ), difference as (
  select dv.device_id, dv.token_id, w.policy_id, w.target, 'InstallProfile' as type,
      jsonb_build_object('mobileconfig', w.mobileconfig) as payload, 0 as part
  from devices dv join wanted w on w.token_id = dv.token_id
  left join latest l on l.device_id = dv.device_id and l.target = w.target
  where l.target is null or l.type = 'RemoveProfile' or l.mobileconfig is distinct
  from w.mobileconfig
  union all
  select l.device_id, dv.token_id, l.source_policy_id, l.target, 'RemoveProfile',
      jsonb_build_object('Identifier', l.target), 1
  from latest l join devices dv on dv.device_id = l.device_id
  where l.type = 'InstallProfile' and not exists (
    select 1
    from wanted w
    where w.token_id = dv.token_id and w.target = l.target) ), queued as (
  insert into "device_commands" (organization_id, id, device_id, platform, type, target, payload,
      source_token_id, source_policy_id, status, created_at, updated_at)
  select $6, lpad(to_hex(floor(extract(epoch
          from $7::timestamptz))::bigint), 8, '0') || substr(replace(gen_random_uuid()::text, '-',
              ''), 1, 16), device_id, 'apple', type, target, payload, token_id, policy_id, 'queued',
              $8::timestamptz, $9::timestamptz
  from difference
  order by device_id, part, target
  returning device_id )
select device_id as "deviceId", count(*)::int as count
from queued
group by device_id
order by device_id;

-- 7 of 9; $1 = <organization>, $2 = <id>, $3 = 'ENROLLED', $4 = 1
select "push_token", "push_magic"
from "apple_devices"
where ("apple_devices"."organization_id" = $1 and "apple_devices"."id" = $2 and ("apple_devices"."state" = $3 and "apple_devices"."push_token" is not null and "apple_devices"."push_magic" is not null and not exists (
      select 1
      from apple_push_outbox r
      where r.organization_id = "apple_devices"."organization_id" and r.device_id = "apple_devices"."id" and r.refused_token is not null and r.refused_token = "apple_devices"."push_token")))
limit $4;

-- 8 of 9; $1 = <organization>, $2 = <id>, $3 = <id>, $4 = 'pending', $5 = <now>, $6 = <now>,
-- --     $7 = <now>
insert into "apple_push_outbox" ("organization_id", "id", "device_id", "status", "attempts",
    "next_attempt_at", "last_attempt_at", "response_status", "last_error", "apns_id",
    "refused_token", "lease_token", "sent_at", "created_at", "updated_at") values ($1, $2, $3, $4,
    default, $5, default, default, default, default, default, default, default, $6, $7)
on conflict ("organization_id","device_id")
where status = 'pending' do nothing
returning "id";

-- 9 of 9; $1 = <organization>, $2 = 'apple', $3 = 1
select "id", "organization_id", "platform", "name", "config", "server_expiration_date",
    "mobile_config_signed", "created_at", "updated_at"
from "enterprises"
where ("enterprises"."organization_id" = $1 and "enterprises"."platform" = $2)
limit $3;
