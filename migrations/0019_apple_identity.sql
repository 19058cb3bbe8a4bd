-- One identity per Apple token, one live device per UDID (issue 20).
--
-- At most one unspent SCEP challenge per token: a new profile download replaces the previous
-- one (src/protocols/apple/scep-challenges.repo.ts). Older unspent duplicates are dropped first,
-- the newest of each token kept.
DELETE FROM "apple_scep_challenges" c
WHERE c.spent_at IS NULL
  AND EXISTS (
    SELECT 1 FROM "apple_scep_challenges" d
    WHERE d.organization_id = c.organization_id AND d.token_id = c.token_id AND d.spent_at IS NULL
      AND (d.created_at, d.id) > (c.created_at, c.id)
  );
--> statement-breakpoint
CREATE UNIQUE INDEX "apple_scep_challenges_org_token_unspent_idx" ON "apple_scep_challenges" USING btree ("organization_id","token_id") WHERE spent_at is null;
--> statement-breakpoint
-- Two enrolled rows with one UDID: the newest keeps it, the others are retired (their
-- identities are revoked below with every other identity that can no longer speak).
WITH ranked AS (
  SELECT organization_id, id, row_number() OVER (PARTITION BY organization_id, udid ORDER BY enrolled_at DESC NULLS LAST, created_at DESC, id DESC) AS n
  FROM "apple_devices" WHERE state = 'ENROLLED'
)
UPDATE "apple_devices" a SET state = 'UNENROLLED', unenrolled_at = now(), updated_at = now()
FROM ranked r
WHERE r.organization_id = a.organization_id AND r.id = a.id AND r.n > 1;
--> statement-breakpoint
CREATE UNIQUE INDEX "apple_devices_org_enrolled_udid_idx" ON "apple_devices" USING btree ("organization_id","udid") WHERE state = 'ENROLLED';
--> statement-breakpoint
CREATE INDEX "issued_certificates_org_token_idx" ON "issued_certificates" USING btree ("organization_id","token_id");
--> statement-breakpoint
UPDATE "issued_certificates" c SET revoked_at = now()
FROM "apple_devices" a
WHERE c.revoked_at IS NULL AND c.platform = 'apple' AND a.organization_id = c.organization_id AND a.id = c.device_id AND a.state = 'UNENROLLED';
--> statement-breakpoint
-- Identities of tokens that can no longer enroll, other than the one that redeemed the token.
UPDATE "issued_certificates" c SET revoked_at = now()
FROM "enrollment_tokens" t
WHERE c.revoked_at IS NULL AND t.organization_id = c.organization_id AND t.id = c.token_id
  AND t.state <> 'PENDING' AND c.device_id IS DISTINCT FROM t.device_id;
