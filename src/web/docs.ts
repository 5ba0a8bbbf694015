// /docs: the API reference (Scalar's browser build, served from this binary, no CDN) over /openapi.json, where a
// person reads how to run a skill and tries it with their key.
import type { Platform } from "../http/platform";
import { NotFoundError } from "../lib/errors";

interface Asset {
  path: string;
  js: Uint8Array;
  gzip: Uint8Array;
}

let asset: Promise<Asset> | null = null;

/** Loaded on the first /docs visit, not at start: the build is 4.8 MB and no other command needs it. */
function scalar(): Promise<Asset> {
  asset ??= import("./docs-asset").then(async ({ default: file }) => {
    const js = await Bun.file(file).bytes();
    const hash = new Bun.CryptoHasher("sha256").update(js).digest("hex").slice(0, 16);
    return { path: `/docs/scalar.${hash}.js`, js, gzip: Bun.gzipSync(js) };
  });
  return asset;
}

// Scalar's options: our own document, no font CDN, no telemetry, no hosted AI agent; the API key scheme first,
// kept in memory only (persistAuth off: a key typed here is not left in localStorage).
const CONFIG = {
  url: "/openapi.json",
  withDefaultFonts: false,
  telemetry: false,
  agent: { disabled: true },
  persistAuth: false,
  // Its "Open API Client" button opens client.scalar.com with our document's URL; "Test Request" stays here.
  hideClientButton: true,
  showDeveloperTools: "never",
  authentication: { preferredSecurityScheme: "apiKey" },
};
const INIT = `Scalar.createApiReference('#app', ${JSON.stringify(CONFIG)})`;
const INIT_HASH = `'sha256-${new Bun.CryptoHasher("sha256").update(INIT).digest("base64")}'`;

/**
 * Stricter than nothing, looser than our other pages, by what Scalar needs: its script from this origin and
 * its one inline start-up call (by hash); styles inline, because it injects <style> elements and style
 * attributes as it renders (its nonce hook covers only its first sheet); connect-src 'self' for the document
 * and "try it" requests; fonts and images from this origin or data: URLs. Still no framing, no foreign
 * origin, no form posts, no <base>.
 */
const DOCS_CSP = [
  "default-src 'none'",
  `script-src 'self' ${INIT_HASH}`,
  "style-src 'self' 'unsafe-inline'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

const page = (scriptPath: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Clanker API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
</head><body>
<noscript>This reference needs JavaScript. The machine-readable document is at <a href="/openapi.json">/openapi.json</a>.</noscript>
<div id="app"></div>
<script src="${scriptPath}"></script>
<script>${INIT}</script>
</body></html>`;

export const docsRoutes = (app: Platform) =>
  app
    .get(
      "/docs",
      async ({ set }) => {
        const { path } = await scalar();
        set.headers["content-type"] = "text/html; charset=utf-8";
        set.headers["content-security-policy"] = DOCS_CSP;
        set.headers["x-content-type-options"] = "nosniff";
        set.headers["referrer-policy"] = "no-referrer";
        set.headers["cache-control"] = "no-cache";
        return page(path);
      },
      { detail: { hide: true } },
    )
    .get(
      "/docs/:file",
      async ({ params, request, set }) => {
        const a = await scalar();
        // An older build's name is a 404 too: the page that asked for it is stale, and reloads get the new one.
        if (`/docs/${params.file}` !== a.path) throw new NotFoundError("file", params.file);
        set.headers["content-type"] = "text/javascript; charset=utf-8";
        set.headers["x-content-type-options"] = "nosniff";
        // The name carries the content's hash: a new build is a new URL, so this one may be kept for a year.
        set.headers["cache-control"] = "public, max-age=31536000, immutable";
        set.headers["vary"] = "accept-encoding";
        if (acceptsGzip(request.headers.get("accept-encoding"))) {
          set.headers["content-encoding"] = "gzip";
          return new Response(a.gzip, { headers: set.headers as Record<string, string> });
        }
        return new Response(a.js, { headers: set.headers as Record<string, string> });
      },
      { detail: { hide: true } },
    );

/** Whether Accept-Encoding takes gzip: named (or `*`) without `q=0`, which refuses it (RFC 9110 §12.5.3). */
export function acceptsGzip(header: string | null): boolean {
  let star = false;
  for (const part of (header ?? "").toLowerCase().split(",")) {
    const [coding, ...params] = part.split(";").map((x) => x.trim());
    const q = params.find((p) => p.startsWith("q="));
    const refused = q !== undefined && Number(q.slice(2)) === 0;
    if (coding === "gzip" || coding === "x-gzip") return !refused;
    if (coding === "*") star = !refused;
  }
  return star;
}
