CREATE TABLE `byok_keys` (
	`workspace_id` integer PRIMARY KEY NOT NULL,
	`provider` text NOT NULL,
	`ciphertext` blob NOT NULL,
	`last4` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `installed_skills` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`workspace_id` integer NOT NULL,
	`slug` text NOT NULL,
	`installed_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `installed_skills_ws_slug` ON `installed_skills` (`workspace_id`,`slug`);--> statement-breakpoint
CREATE TABLE `secrets` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`workspace_id` integer NOT NULL,
	`name` text NOT NULL,
	`ciphertext` blob NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `secrets_ws_name` ON `secrets` (`workspace_id`,`name`);--> statement-breakpoint
CREATE INDEX `secrets_ws` ON `secrets` (`workspace_id`,`id`);--> statement-breakpoint
CREATE TABLE `skill_secret_bindings` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`workspace_id` integer NOT NULL,
	`skill_slug` text NOT NULL,
	`secret_id` integer NOT NULL,
	`env_var` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`secret_id`) REFERENCES `secrets`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `bindings_ws_skill_env` ON `skill_secret_bindings` (`workspace_id`,`skill_slug`,`env_var`);--> statement-breakpoint
CREATE INDEX `bindings_secret` ON `skill_secret_bindings` (`secret_id`);