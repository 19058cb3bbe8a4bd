-- Every change to a webhook endpoint, its creation included, is announced with its
-- organization's id, so that each server process drops the endpoints it keeps for token
-- transitions (src/webhooks/endpoint-cache.ts) at once, whoever made the change. Unlike
-- policies, a new endpoint needs the notice too: "this organization has none" is kept.
CREATE FUNCTION "webhook_endpoints_notify_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('openroll_webhook_endpoints', COALESCE(NEW.organization_id, OLD.organization_id));
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "webhook_endpoints_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "webhook_endpoints"
  FOR EACH ROW EXECUTE FUNCTION "webhook_endpoints_notify_change"();
