// A database some newer clanker migrated: this version does not know that schema, so it neither serves it nor writes
// to it (a rolled-back binary, or a backup from a newer version put back, would otherwise run on tables it misreads).
import { version } from "../../package.json";

/** A schema this version will not serve as it is: one line saying what to do (the CLI's exit 2). */
export class SchemaError extends Error {}
export class NewerDatabaseError extends SchemaError {}
/**
 * A server of an older version serves the data dir: migrating the database under it (a CLI verb, `clanker mcp` or
 * `clanker migrate` of a newer checkout, after a git pull and before the restart) put it on a schema it does not know
 * and made the upgrade one way before anyone restarted anything.
 */
export class OlderServerError extends SchemaError {
  constructor(dataDir: string, pid: number, tag: string) {
    super(
      `the server serving ${dataDir} (pid ${pid}) is an older clanker than this command: its database lacks migration ${tag}, which this command would apply under it. Stop that server and start this version (it migrates), or run this command with the server's own version`,
    );
  }
}

/** A migration that failed: it rolled back, the ones before it stay applied. */
export class MigrationFailedError extends SchemaError {
  constructor(tag: string, cause: unknown) {
    super(
      `migration ${tag} failed (${(cause as Error)?.message ?? cause}): it rolled back, the migrations before it stay applied. Fix what that names (a table or column someone added by hand?) or put back a backup (clanker restore --help), then run clanker migrate again`,
    );
  }
}

/** Throws NewerDatabaseError naming what to do when `applied` holds a migration this version does not ship. */
export function refuseNewerSchema(applied: Iterable<string>, shipped: readonly { tag: string }[]): void {
  const known = new Set(shipped.map((m) => m.tag));
  const unknown = [...applied].filter((tag) => !known.has(tag)).sort();
  if (!unknown.length) return;
  const more = unknown.length > 1 ? ` and ${unknown.length - 1} more` : "";
  throw new NewerDatabaseError(
    `the database was migrated by a newer clanker than this one (${version}): it has migration ${unknown[0]}${more}, which this version does not know. Run that newer version, or put back a backup this version made (clanker restore --help)`,
  );
}
