// The MCP tool names the spec lists for skills, artifacts, executions, memory, billing, workflows and
// integration triggers: what tools/list must answer, exactly (connector and integration tools come with those
// capabilities).
export const SPEC_TOOL_NAMES = [
  "list-installed-skills",
  "get-skill-details",
  "install-skill",
  "uninstall-skill",
  "execute-skill",
  "list-artifacts",
  "get-artifact",
  "download-artifact",
  "delete-artifact",
  "list-executions",
  "get-execution-status",
  "cancel-execution",
  "read-memory",
  "write-memory",
  "get-credit-balance",
  "start-workflow",
  "list-workflow-runs",
  "get-workflow-run",
  "cancel-workflow-run",
  "resume-workflow-run",
  "list-integration-triggers",
];
