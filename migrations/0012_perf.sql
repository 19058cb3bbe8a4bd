-- Every change to a policy is announced with its organization's id, so that each server process
-- drops the policies it keeps for token views (src/modules/policies/policy-cache.ts) at once,
-- whoever made the change. A new policy needs no notice: nothing can have cached it yet.
CREATE FUNCTION "policies_notify_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('openroll_policies', OLD.organization_id);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "policies_notify_change" AFTER UPDATE OR DELETE ON "policies"
  FOR EACH ROW EXECUTE FUNCTION "policies_notify_change"();
