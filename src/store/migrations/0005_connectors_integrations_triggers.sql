CREATE TABLE `connections` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`workspace_id` integer NOT NULL,
	`kind` text NOT NULL,
	`provider` text NOT NULL,
	`account` text,
	`ciphertext` blob,
	`settings` text,
	`created_by_user_id` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `connections_ws_kind_provider` ON `connections` (`workspace_id`,`kind`,`provider`);--> statement-breakpoint
CREATE TABLE `event_triggers` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`workspace_id` integer NOT NULL,
	`workflow_id` text NOT NULL,
	`kind` text NOT NULL,
	`settings` text NOT NULL,
	`ciphertext` blob NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`created_by_user_id` integer,
	`last_fired_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `event_triggers_ws` ON `event_triggers` (`workspace_id`,`id`);--> statement-breakpoint
CREATE TABLE `oauth_states` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`state_hash` text NOT NULL,
	`workspace_id` integer NOT NULL,
	`kind` text NOT NULL,
	`provider` text NOT NULL,
	`actor_user_id` integer,
	`actor_api_key_id` integer,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `oauth_states_state_hash_unique` ON `oauth_states` (`state_hash`);--> statement-breakpoint
CREATE INDEX `oauth_states_expires` ON `oauth_states` (`expires_at`);--> statement-breakpoint
ALTER TABLE `workflow_runs` ADD `actor_user_id` integer;--> statement-breakpoint
ALTER TABLE `workflow_runs` ADD `actor_api_key_id` integer;