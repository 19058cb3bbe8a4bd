CREATE TABLE "certificate_authorities" (
	"organization_id" varchar(24) PRIMARY KEY NOT NULL,
	"certificate_der" bytea NOT NULL,
	"private_key_encrypted" bytea NOT NULL,
	"thumbprint" text NOT NULL,
	"not_before" timestamp (3) with time zone NOT NULL,
	"not_after" timestamp (3) with time zone NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "issued_certificates" (
	"organization_id" varchar(24) NOT NULL,
	"serial_number" text NOT NULL,
	"thumbprint" text NOT NULL,
	"platform" text NOT NULL,
	"device_id" varchar(24) NOT NULL,
	"token_id" varchar(24) NOT NULL,
	"subject_common_name" text NOT NULL,
	"certificate_der" bytea NOT NULL,
	"not_before" timestamp (3) with time zone NOT NULL,
	"not_after" timestamp (3) with time zone NOT NULL,
	"revoked_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "issued_certificates_organization_id_serial_number_pk" PRIMARY KEY("organization_id","serial_number")
);
--> statement-breakpoint
CREATE INDEX "issued_certificates_org_device_idx" ON "issued_certificates" USING btree ("organization_id","device_id");--> statement-breakpoint
CREATE INDEX "issued_certificates_thumbprint_idx" ON "issued_certificates" USING btree ("thumbprint");--> statement-breakpoint
CREATE INDEX "issued_certificates_serial_idx" ON "issued_certificates" USING btree ("serial_number");--> statement-breakpoint
CREATE TABLE "windows_devices" (
	"organization_id" varchar(24) NOT NULL,
	"id" varchar(24) NOT NULL,
	"token_id" varchar(24) NOT NULL,
	"user_email" text NOT NULL,
	"enroll_code_hash" bytea NOT NULL,
	"device_identifier" text NOT NULL,
	"hw_dev_id" text,
	"device_name" text,
	"os_version" text,
	"enrollment_context" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"certificate_serial" text NOT NULL,
	"certificate_thumbprint" text NOT NULL,
	"dev_info" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"state" text NOT NULL,
	"enrolled_at" timestamp (3) with time zone NOT NULL,
	"last_seen_at" timestamp (3) with time zone,
	"unenrolled_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "windows_devices_organization_id_id_pk" PRIMARY KEY("organization_id","id")
);
--> statement-breakpoint
CREATE INDEX "windows_devices_org_created_idx" ON "windows_devices" USING btree ("organization_id","created_at","id");--> statement-breakpoint
CREATE INDEX "windows_devices_org_identifier_idx" ON "windows_devices" USING btree ("organization_id","device_identifier");--> statement-breakpoint
CREATE INDEX "windows_devices_org_token_idx" ON "windows_devices" USING btree ("organization_id","token_id");--> statement-breakpoint
CREATE INDEX "windows_devices_code_idx" ON "windows_devices" USING btree ("enroll_code_hash");