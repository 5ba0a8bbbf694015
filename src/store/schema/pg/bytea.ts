// PostgreSQL's bytea as a Buffer, the type SQLite's blob (mode "buffer") gives: sealed secrets and ciphertexts.
import { customType } from "drizzle-orm/pg-core";

/** postgres.js sends a Buffer as bytea and reads bytea back as a Buffer, so no conversion either way. */
export const bytea = customType<{ data: Buffer; driverData: Buffer }>({
  dataType: () => "bytea",
});
