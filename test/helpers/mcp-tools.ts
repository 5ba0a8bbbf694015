// The MCP tool names the spec lists for skills, artifacts, executions, memory and billing: what tools/list
// must answer, exactly (workflow, connector and integration tools come with those capabilities).
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
];
