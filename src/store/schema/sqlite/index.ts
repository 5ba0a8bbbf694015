// The drizzle tables, one file per area; everything imports them from here.
export * from "./workspaces";
export * from "./skills";
export * from "./runs";
export * from "./signin";
export * from "./workflows";
export * from "./connections";
export * from "./files";
