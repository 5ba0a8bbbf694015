import { afterAll, beforeAll, expect, test } from "bun:test";
import { cleanup, client, startServer, type TestServer } from "./helpers/server";

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  await srv.stop();
  cleanup(srv);
});

test("a key from the CLI reads its profile over HTTP", async () => {
  const key = await srv.createKey({ email: "smoke@example.test" });
  expect(key).toMatch(/^ck_[A-Za-z0-9_-]{43}$/);
  const r = await client(srv, { apiKey: key })("GET", "/api/v1/profile");
  expect(r.status).toBe(200);
  expect(r.body.email).toBe("smoke@example.test");
  expect(r.headers.get("x-request-id")).toMatch(/^req_/);
});
