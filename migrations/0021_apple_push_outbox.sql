-- Push through APNs (issue 25 item 4): the push outbox worked by the shared outbox worker, at
-- most one pending push per device, and on a push the token APNs refused for good.
CREATE TABLE "apple_push_outbox" (
	"organization_id" varchar(24) NOT NULL,
	"id" varchar(24) NOT NULL,
	"device_id" varchar(24) NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp (3) with time zone NOT NULL,
	"last_attempt_at" timestamp (3) with time zone,
	"response_status" integer,
	"last_error" text,
	"apns_id" text,
	"refused_token" bytea,
	"lease_token" text,
	"sent_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "apple_push_outbox_organization_id_id_pk" PRIMARY KEY("organization_id","id")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "apple_push_outbox_org_device_pending_idx" ON "apple_push_outbox" USING btree ("organization_id","device_id") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "apple_push_outbox_org_due_idx" ON "apple_push_outbox" USING btree ("organization_id","next_attempt_at") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "apple_push_outbox_org_device_refused_idx" ON "apple_push_outbox" USING btree ("organization_id","device_id") WHERE refused_token is not null;
