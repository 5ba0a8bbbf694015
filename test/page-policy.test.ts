// htmlPage's content-security-policy cache (pure logic, no server): keyed by a page's inline script and style
// blocks, so pages that carry path params or error text do not grow it, and capped so varying blocks cannot either.
import { expect, test } from "bun:test";
import { cachedPagePolicies, htmlPage } from "../src/http/html-page";

const headers = () => ({ headers: {} as Record<string, string | number> });

test("dynamic text around the same inline blocks reuses one cached policy, and the policy still hashes those blocks", () => {
  const before = cachedPagePolicies();
  let first = "";
  for (let i = 0; i < 2000; i++) {
    const set = headers();
    htmlPage(set, `<!doctype html><style>p{color:red}</style><p>Unknown connector 'x${i}'</p><script>go()</script>`);
    if (i === 0) first = String(set.headers["content-security-policy"]);
    else expect(set.headers["content-security-policy"]).toBe(first);
  }
  expect(cachedPagePolicies() - before).toBe(1);
  const style = `'sha256-${new Bun.CryptoHasher("sha256").update("p{color:red}").digest("base64")}'`;
  const script = `'sha256-${new Bun.CryptoHasher("sha256").update("go()").digest("base64")}'`;
  expect(first).toContain(`style-src ${style};`);
  expect(first).toContain(`script-src ${script};`);
  expect(first).toContain("form-action 'self'");
});

test("pages whose inline blocks differ every time cannot grow the cache past its cap, and each still gets its own hashes", () => {
  for (let i = 0; i < 2000; i++) {
    const set = headers();
    htmlPage(set, `<style>.n${i}{}</style>`);
    expect(set.headers["content-security-policy"]).toContain(`'sha256-${new Bun.CryptoHasher("sha256").update(`.n${i}{}`).digest("base64")}'`);
  }
  expect(cachedPagePolicies()).toBeLessThanOrEqual(256);
});
