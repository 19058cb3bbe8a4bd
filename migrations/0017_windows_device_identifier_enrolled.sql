-- One DeviceID, one enrolled Windows device per organization (issue 20). Until now a second
-- enrollment under a DeviceID that an enrolled device held made a second row, and management
-- sessions took the newest. Where that happened, the newest row stays enrolled (it is the one
-- whose sessions worked, so no working PC stops working) and the older ones are unenrolled with
-- their certificates revoked, as if retired; an admin retires the newest if it is the intruder.
WITH ranked AS (
  SELECT "organization_id", "id",
    row_number() OVER (PARTITION BY "organization_id", "device_identifier" ORDER BY "created_at" DESC, "id" DESC) AS "rank"
  FROM "windows_devices" WHERE "state" = 'enrolled'
), superseded AS (
  UPDATE "windows_devices" d SET "state" = 'unenrolled', "unenrolled_at" = now(), "updated_at" = now()
  FROM ranked r WHERE r."rank" > 1 AND d."organization_id" = r."organization_id" AND d."id" = r."id"
  RETURNING d."organization_id", d."id"
)
UPDATE "issued_certificates" c SET "revoked_at" = now()
FROM superseded s WHERE c."organization_id" = s."organization_id" AND c."device_id" = s."id" AND c."revoked_at" IS NULL;
--> statement-breakpoint
CREATE UNIQUE INDEX "windows_devices_org_identifier_enrolled_idx" ON "windows_devices" USING btree ("organization_id","device_identifier") WHERE state = 'enrolled';
