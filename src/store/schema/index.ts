// The drizzle tables every service imports. They are typed as the SQLite tables; under DATABASE_URL=postgres://…
// the same names are PostgreSQL's tables of the same columns (see ./pg), and the queries written against them are
// the dialect-neutral subset both speak (awaited builders, .returning(), onConflict…).
export * from "./sqlite";
