// Imported first by main.ts: Elysia and Bun read NODE_ENV at import time, and run in development mode without it.
process.env.NODE_ENV ??= "production";
