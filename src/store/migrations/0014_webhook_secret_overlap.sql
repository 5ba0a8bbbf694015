ALTER TABLE `webhook_secrets` ADD `previous_ciphertext` blob;--> statement-breakpoint
ALTER TABLE `webhook_secrets` ADD `previous_until` integer;