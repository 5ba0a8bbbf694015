ALTER TABLE "webhook_secrets" ADD COLUMN "previous_ciphertext" "bytea";--> statement-breakpoint
ALTER TABLE "webhook_secrets" ADD COLUMN "previous_until" bigint;