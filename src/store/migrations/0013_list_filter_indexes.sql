CREATE INDEX `audit_logs_ws_resource` ON `audit_logs` (`workspace_id`,`resource_type`,`id`);--> statement-breakpoint
CREATE INDEX `audit_logs_ws_created` ON `audit_logs` (`workspace_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `executions_ws_skill` ON `executions` (`workspace_id`,`skill_slug`,`id`);--> statement-breakpoint
CREATE INDEX `workflow_runs_ws_status` ON `workflow_runs` (`workspace_id`,`status`,`id`);--> statement-breakpoint
CREATE INDEX `workflow_runs_ws_workflow` ON `workflow_runs` (`workspace_id`,`workflow_id`,`id`);