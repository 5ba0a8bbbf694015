CREATE TABLE `hook_deliveries` (
	`key` text PRIMARY KEY NOT NULL,
	`trigger_id` integer NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`trigger_id`) REFERENCES `event_triggers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `hook_deliveries_expires` ON `hook_deliveries` (`expires_at`);--> statement-breakpoint
CREATE INDEX `audit_logs_ws_resource` ON `audit_logs` (`workspace_id`,`resource_type`,`id`);--> statement-breakpoint
CREATE INDEX `executions_ws_skill` ON `executions` (`workspace_id`,`skill_slug`,`id`);--> statement-breakpoint
CREATE INDEX `workflow_runs_ws_status` ON `workflow_runs` (`workspace_id`,`status`,`id`);--> statement-breakpoint
CREATE INDEX `workflow_runs_ws_workflow` ON `workflow_runs` (`workspace_id`,`workflow_id`,`id`);