// Which database this process runs on, decided once at load from DATABASE_URL: the tables (./schema) are picked by it.
export type Dialect = "sqlite" | "postgres";

export function isPostgresUrl(url: string | null | undefined): boolean {
  return !!url && /^postgres(ql)?:\/\//i.test(url);
}

/**
 * Read once: every module imports its tables from ./schema at load, so the dialect cannot change afterwards (a
 * store opened on a postgres:// URL given any other way would meet SQLite tables; openStore refuses that).
 */
export const DIALECT: Dialect = isPostgresUrl(process.env.DATABASE_URL) ? "postgres" : "sqlite";
