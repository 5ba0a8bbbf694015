CREATE TABLE `files` (
	`path` text PRIMARY KEY NOT NULL,
	`content` blob NOT NULL,
	`size` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `executions` ADD `lease_owner` text;--> statement-breakpoint
ALTER TABLE `executions` ADD `lease_expires_at` integer;--> statement-breakpoint
ALTER TABLE `workflow_runs` ADD `lease_owner` text;--> statement-breakpoint
ALTER TABLE `workflow_runs` ADD `lease_expires_at` integer;