// The ceiling: a raw Bun.serve with one JSON GET and one JSON POST, no framework, no auth, no store.
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 0),
  development: false,
  async fetch(req) {
    if (req.method === "POST") return Response.json({ ok: true, got: await req.json() });
    return Response.json({ id: "usr_1", email: "bench@example.test", name: "bench" });
  },
});
console.log(`raw listening on http://127.0.0.1:${server.port}`);
