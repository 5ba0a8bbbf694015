CREATE TABLE "hook_deliveries" (
	"key" text PRIMARY KEY NOT NULL,
	"trigger_id" bigint NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "hook_deliveries" ADD CONSTRAINT "hook_deliveries_trigger_id_event_triggers_id_fk" FOREIGN KEY ("trigger_id") REFERENCES "public"."event_triggers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "hook_deliveries_expires" ON "hook_deliveries" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "audit_logs_ws_resource" ON "audit_logs" USING btree ("workspace_id","resource_type","id");--> statement-breakpoint
CREATE INDEX "executions_ws_skill" ON "executions" USING btree ("workspace_id","skill_slug","id");--> statement-breakpoint
CREATE INDEX "workflow_runs_ws_status" ON "workflow_runs" USING btree ("workspace_id","status","id");--> statement-breakpoint
CREATE INDEX "workflow_runs_ws_workflow" ON "workflow_runs" USING btree ("workspace_id","workflow_id","id");