// The start-up ceiling: a bare Elysia app, compiled like ours (test/bench/cold-start.ts builds it), that answers
// GET /healthz. Our `serve` to first 200 is printed next to this app's, measured in the same rounds: whatever the
// machine adds to every compiled Bun program's start (page faults, a cold disk) shows in both.
import { Elysia } from "elysia";

const port = Number(process.argv[process.argv.indexOf("--port") + 1]);
new Elysia().get("/healthz", () => ({ status: "ok" })).listen({ hostname: "127.0.0.1", port });
