// Elysia composes each route's handler from its hooks' source text: a function not declared async whose source has
// `=>` and then a call before the first space is taken for one that may return a promise, and awaited on every
// request. So the binary is built with its whitespace kept (package.json's build script): minified to one line, every
// synchronous hook of ours read as async, and the binary awaited onRequest and every resolve where a run from source
// does not (~2-3 % of a GET's CPU). These tests hold our hooks, as the build prints them, to Elysia's own reading.
import { expect, test } from "bun:test";
import { isAsync } from "elysia/compose";
import pkg from "../package.json";
import { createPlatform, type PlatformDeps } from "../src/http/platform";

const minifiesWhitespace = /--minify(-whitespace)?(\s|$)/.test(pkg.scripts.build);

/** A function's source as Bun prints it for a build, whitespace minified or not. */
const printed = (fn: (...args: never[]) => unknown, minifyWhitespace: boolean): string =>
  new Bun.Transpiler({ loader: "js", minifyWhitespace })
    .transformSync(`export default ${fn.toString()}`)
    .replace(/^export default\s*/, "")
    .trim();

/** Elysia's verdict on a function that is not declared async and reads as `source` (it looks at nothing else). */
const readAsAsync = (source: string): boolean => isAsync({ fn: { toString: () => source, constructor: { name: "Function" } } } as never);

/** The platform's synchronous per-request hooks: onRequest, onAfterResponse and the auth macro's resolve. */
function platformHooks() {
  const deps = { config: { publicUrl: "http://127.0.0.1:1", trustedProxies: [] } } as unknown as PlatformDeps;
  const app = createPlatform(deps).get("/x", () => ({}), { auth: true });
  const route = app.router.history.find((r) => r.path === "/x")!;
  const hooks = [...(app.event.request ?? []), ...(app.event.afterResponse ?? []), ...(route.hooks.beforeHandle ?? [])];
  return hooks.map((h) => h.fn as (...args: never[]) => unknown);
}

test("the platform's synchronous hooks read as synchronous to Elysia, from source and as the binary is built", () => {
  const hooks = platformHooks();
  expect(hooks.length).toBe(3);
  for (const fn of hooks) {
    expect(fn.constructor.name).toBe("Function");
    expect(readAsAsync(fn.toString())).toBe(false);
    expect(readAsAsync(printed(fn, minifiesWhitespace))).toBe(false);
  }
});

test("minified to one line, the same hooks would read as async (why the build keeps whitespace)", () => {
  for (const fn of platformHooks()) expect(readAsAsync(printed(fn, true))).toBe(true);
});
