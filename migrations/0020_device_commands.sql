-- Every enrolled device's command queue (issue 23): what the Windows session and the Apple
-- channel hand out, in seq order, and what the devices answered. Led by the organization; the
-- one writer is src/devices/commands/.
CREATE TABLE "device_commands" (
	"organization_id" varchar(24) NOT NULL,
	"id" varchar(24) NOT NULL,
	"device_id" varchar(24) NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "device_commands_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"platform" text NOT NULL,
	"type" text NOT NULL,
	"target" text,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"source_token_id" varchar(24),
	"source_policy_id" varchar(24),
	"status" text NOT NULL,
	"result" jsonb,
	"session_id" text,
	"msg_id" text,
	"cmd_id" text,
	"not_now_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"sent_at" timestamp (3) with time zone,
	"completed_at" timestamp (3) with time zone,
	CONSTRAINT "device_commands_organization_id_id_pk" PRIMARY KEY("organization_id","id")
);
--> statement-breakpoint
CREATE INDEX "device_commands_org_device_status_idx" ON "device_commands" USING btree ("organization_id","device_id","status","seq");--> statement-breakpoint
CREATE INDEX "device_commands_org_device_created_idx" ON "device_commands" USING btree ("organization_id","device_id","created_at","id");
