// What every process that serves from the store does before anything else (serve, clanker mcp).
import { migrate, type Store } from "./store/db";
import { checkStartKey } from "./store/master-key";
import { loadSharedSkills } from "./modules/skills/sources";

/** Migrates; refuses another master key (a replica, a restored backup) before anything reads a secret; under
 * PostgreSQL, fetches the imported skills from the database before the catalog is made. */
export async function prepareStore(store: Store, dataDir: string): Promise<void> {
  await migrate(store);
  await checkStartKey(store, dataDir);
  await loadSharedSkills(store, dataDir);
}
