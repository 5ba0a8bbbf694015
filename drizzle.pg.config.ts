// drizzle-kit's config for the PostgreSQL migrations (src/store/migrations-pg); drizzle.config.ts is SQLite's.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./src/store/schema/pg/*.ts",
  out: "./src/store/migrations-pg",
});
