-- The claim that holds an outbox row: set by each claim (a fresh random token), checked by every
-- later write of the holder (renewal, the settlement), cleared when the row is settled. A sender
-- whose lease ran out, and whose row another sender claimed since, can no longer touch it
-- (src/outbox/outbox-queue.ts).
ALTER TABLE "email_outbox" ADD COLUMN "lease_token" text;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD COLUMN "lease_token" text;--> statement-breakpoint
-- The claim walks every organization's due deliveries in its own order (next_attempt_at, seq).
-- Led by the organization, this index served no claim, and with the statistics of an empty
-- queue the planner took it for the per-token chain check too: 10,000 index rows read for each
-- of 10,000 candidates (issue 27: a claim of 19 s). The chain check now has only its own index.
DROP INDEX "webhook_deliveries_due_idx";--> statement-breakpoint
CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" USING btree ("next_attempt_at","seq") WHERE status = 'pending';
