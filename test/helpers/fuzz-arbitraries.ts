// fast-check generators for test/fuzz.test.ts: malformed path params, query strings, bodies (wrong types, extra
// fields, huge strings, unicode, nulls, nesting to ~50, invalid JSON and UTF-8, odd content types), odd headers
// and credentials, malformed session cookies, and JSON nested thousands of levels deep.
import fc from "fast-check";
import type { Body, Operation, PathValue, Piece, RequestSpec } from "./openapi-fuzz";
import { SAFE_URLS } from "./openapi-fuzz";

/** What the suite knows about its server: valid and other-workspace values, seed bodies, credentials. */
export interface FuzzWorld {
  /** Path params of `op` that exist in the fuzzing key's workspace, and ones that exist only in another. */
  pathValues(op: Operation): { valid: Record<string, string>; foreign: Record<string, string> };
  /** A body this route accepts, with this world's real ids (which no schema knows), or undefined. */
  seedBody(op: Operation): Record<string, unknown> | undefined;
  /** Valid credentials for `op` (headers). */
  validCred(op: Operation): Record<string, string>;
  /** Other credential headers worth trying: another workspace's key, a session, a revoked key, … */
  otherCreds: Record<string, string>[];
  workspaces: { mine: string; foreign: string };
}

const huge = (min: number, max: number) =>
  fc.record({ $huge: fc.constantFrom("a", "9", "é", "💥", "\u0000", "\ud800", "[", "%"), times: fc.integer({ min, max }) });
/** Long header values: only what a header may carry. */
const hugeHeader = (min: number, max: number, prefix = "") =>
  fc.record({ prefix: fc.constant(prefix), $huge: fc.constantFrom("a", "9", "é", "%", "="), times: fc.integer({ min, max }) });

/** Header-safe text (fetch refuses what is not a ByteString): printable ASCII and Latin-1. */
const headerChar = fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0xa0, max: 0xff })).map((c) => String.fromCharCode(c));
const headerText = fc.string({ unit: headerChar, maxLength: 300, size: "max" });

const oddStrings = ["", " ", "\u0000", "null", "undefined", "__proto__", "constructor", "💥", "\ud800", "é\u0301", "\u202e", "<script>", "' OR 1=1 --", "../../etc/passwd", "%ZZ", "\r\n"];
// size "max" needs a maxLength: without one fast-check aims at 2^31 characters.
const text = fc.oneof(
  fc.string({ size: "max", maxLength: 1_000 }),
  fc.string({ unit: "grapheme", size: "max", maxLength: 500 }),
  fc.string({ unit: "binary", size: "max", maxLength: 500 }),
  fc.constantFrom(...oddStrings),
);

const leaf = fc.oneof(
  text,
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, -0, Number.MAX_SAFE_INTEGER + 2, 2 ** 53),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  huge(1_000, 300_000),
);

/** Any JSON value, up to four levels. */
const anyJson: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof({ depthSize: "small", maxDepth: 4 }, leaf, fc.array(tie("v"), { maxLength: 5 }), fc.dictionary(fc.oneof(text, fc.constantFrom("__proto__", "constructor")), tie("v"), { maxKeys: 5 })),
})).v;

/** A value wrapped in up to ~50 arrays or objects. */
const nested = fc.tuple(fc.integer({ min: 2, max: 50 }), fc.boolean(), leaf).map(([d, arr, v]) => {
  let out: unknown = v;
  for (let i = 0; i < d; i++) out = arr ? [out] : { a: out };
  return out;
});

const wrongType = fc.oneof(leaf, fc.constantFrom([], {}, [null], { "": null }), nested, anyJson, fc.constantFrom(...SAFE_URLS));

/** Mutations of a body the route accepts: the seed, a field dropped, retyped, added, or the whole body replaced. */
function mutatedBodies(seed: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(seed);
  const withKey = (arb: fc.Arbitrary<[string, unknown]>) => arb.map(([k, v]) => ({ ...seed, [k]: v }));
  const arbs: fc.Arbitrary<unknown>[] = [fc.constant(seed), withKey(fc.tuple(fc.oneof(text, fc.constantFrom("extra", "__proto__", "id")), anyJson))];
  if (keys.length) {
    const key = fc.constantFrom(...keys);
    arbs.push(
      key.map((k) => Object.fromEntries(Object.entries(seed).filter(([x]) => x !== k))),
      withKey(fc.tuple(key, wrongType)),
      withKey(fc.tuple(key, huge(10_000, 400_000))),
    );
  }
  return fc.oneof(...arbs, anyJson, nested);
}

const brokenJsonTexts = ["{", "}", "[", "nul", "{'a':1}", "NaN", "Infinity", "{} {}", "[1,]", '{"a":1,}', "/*c*/{}", "\ufeff{}", '"str"', "1e99999", '{"a":"\\ud800"}', '{"a":"\\u00"}', "\u0000", "{}\u0000", "   "];

function bodies(seed: Record<string, unknown> | undefined): fc.Arbitrary<Body> {
  const json = (seed ? mutatedBodies(seed) : anyJson).map((value): Body => ({ kind: "json", value }));
  return fc.oneof(
    { weight: 6, arbitrary: json },
    { weight: 2, arbitrary: fc.constantFrom(...brokenJsonTexts).map((t): Body => ({ kind: "text", text: t })) },
    { weight: 1, arbitrary: huge(100_000, 1_000_000).map((t): Body => ({ kind: "text", text: t })) },
    {
      weight: 1,
      arbitrary: seed
        ? fc.integer({ min: 1, max: JSON.stringify(seed).length - 1 }).map((n): Body => ({ kind: "text", text: JSON.stringify(seed).slice(0, n) }))
        : fc.constant<Body>({ kind: "text", text: "{" }),
    },
    {
      weight: 2,
      arbitrary: fc.oneof(
        fc.constantFrom([0xff, 0xfe], [0xc3, 0x28], [0x7b, 0x80, 0x7d], [0xef, 0xbb, 0xbf, 0x7b, 0x7d], [0x22, 0xed, 0xa0, 0x80, 0x22], [0x00]),
        fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 64 }),
      ).map((bytes): Body => ({ kind: "bytes", bytes: [...bytes] })),
    },
    { weight: 1, arbitrary: fc.constant<Body>({ kind: "none" }) },
  );
}

const contentTypes = fc.oneof(
  { weight: 6, arbitrary: fc.constant("application/json") },
  {
    weight: 3,
    arbitrary: fc.constantFrom<string | null>(null, "", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=x",
      "application/json; charset=utf-16", "application/xml", "*/*", "application/json;;;", "text/event-stream"),
  },
  { weight: 1, arbitrary: headerText },
);

/** JSON nested thousands of levels deep, alone or as a field's value (a record field where the route has one). */
export function deepBodies(seed: Record<string, unknown> | undefined): fc.Arbitrary<Body> {
  const fields = [undefined, ...Object.keys(seed ?? {}), "input", "extra"];
  return fc.record({
    kind: fc.constant("deep" as const),
    depth: fc.oneof(fc.constantFrom(20_000, 100_000, 200_000), fc.integer({ min: 1_000, max: 200_000 })),
    open: fc.constantFrom("[" as const, '{"a":' as const),
    field: fc.constantFrom(...fields),
  }).map((b): Body => (b.field === undefined ? { kind: "deep", depth: b.depth, open: b.open } : b));
}

const garbageIds = ["0", "-1", "1.5", "1e3", "0x10", "exec_0", "exec_abc", "art_1", "ws_", "key_-1", "99999999999999999999", "9007199254740993", "null", "undefined", "__proto__", "..", ".", "💥", "\u0000", " ", "a b", "summarize/../x"];

export function pathValues(op: Operation, world: FuzzWorld): fc.Arbitrary<Record<string, PathValue>> {
  const { valid, foreign } = world.pathValues(op);
  const entries = op.pathParams.map((name) => {
    const choices: fc.Arbitrary<PathValue>[] = [
      fc.constant({ enc: valid[name]! }),
      fc.constantFrom(...garbageIds).map((enc): PathValue => ({ enc })),
      text.map((enc): PathValue => ({ enc })),
      huge(101, 600).map((enc): PathValue => ({ enc })), // ≤ 7 KB encoded: Bun answers 431 itself past 16 KB of head
      fc.constantFrom("%ZZ", "%", "%E0%A4%A", "%00", "%2F", "%2e%2e", "a%2Fb", "%F0%9F").map((raw): PathValue => ({ raw })),
    ];
    if (foreign[name]) choices.push(fc.constant<PathValue>({ enc: foreign[name]!, foreign: true }));
    return [name, fc.oneof(...choices)] as const;
  });
  return fc.record(Object.fromEntries(entries));
}

export function queries(op: Operation, world: FuzzWorld): fc.Arbitrary<RequestSpec["query"]> {
  const { valid, foreign } = world.pathValues(op);
  const names = fc.oneof(fc.constantFrom(...op.queryParams, "limit", "after_id", "before_id", "status", "__proto__", "apiKey"), headerText);
  const values: fc.Arbitrary<Piece> = fc.oneof(
    fc.constantFrom("", "0", "-1", "1", "100", "101", "1.5", "1e309", "NaN", "true", "[]", "exec_1", "ws_1", "2025-13-45", "9999-12-31T23:59:59Z", ...Object.values(valid), ...Object.values(foreign)),
    text,
    huge(100, 600),
  );
  return fc.oneof(
    { weight: 4, arbitrary: fc.array(fc.tuple(names, values), { maxLength: 5 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom("%ZZ", "limit=%ZZ", "after_id=%E0%A4%A", "limit=1&limit=2", "&&&", "=", "limit", "after_id=%00", "q=%F0%9F", ";;", "limit[]=1", "limit[a]=b", "a=1&a[b]=2", "__proto__[x]=1")
        .map((raw) => ({ raw })),
    },
  );
}

/** The odd headers: each present or not, alongside whatever credential is chosen. */
export function oddHeaders(world: FuzzWorld): fc.Arbitrary<Record<string, Piece | null>> {
  const opt = (arb: fc.Arbitrary<Piece>) => fc.option(arb, { nil: null, freq: 2 });
  return fc.record({
    "idempotency-key": opt(fc.oneof(fc.constantFrom("", " ", "fuzz-reused-key", "é", "a b"), headerText, hugeHeader(256, 5_000), fc.uuid())),
    "clanker-version": opt(fc.oneof(fc.constantFrom("2025-01-01", "2025-02-30", "0000-00-00", "9999-12-31", "2025-1-1", "", "latest"), headerText)),
    "x-request-id": opt(fc.oneof(headerText, hugeHeader(129, 8_000), fc.constantFrom("../x", "<script>", "req_\u00ff"))),
    "x-workspace-id": opt(fc.oneof(fc.constantFrom(world.workspaces.mine, world.workspaces.foreign, "ws_0", "-1", "%ZZ", ""), headerText, hugeHeader(101, 5_000))),
    accept: opt(fc.constantFrom("text/html", "application/xml", "*/*", "text/event-stream", "application/json, text/event-stream")),
    origin: opt(fc.constantFrom("http://evil.test", "null", "not a url", "http://127.0.0.1:1")),
  });
}

/** Credential headers: none, garbage, a valid key, a session, Bearer forms, another workspace's key. */
export function credentials(op: Operation, world: FuzzWorld): fc.Arbitrary<Record<string, Piece | null>> {
  return fc.oneof(
    fc.constant({}),
    fc.constant(world.validCred(op)),
    fc.constantFrom(...world.otherCreds),
    fc.record({ "x-api-key": fc.oneof(headerText, hugeHeader(300, 6_000)) }),
    fc.record({ authorization: fc.oneof(fc.constantFrom("Bearer ", "Bearer", "Basic YTpi", "bearer x"), headerText.map((t) => `Bearer ${t}`)) }),
    fc.record({ "x-auth-token": fc.oneof(headerText, hugeHeader(300, 6_000)) }),
  );
}

/** Malformed `clanker_session` cookies (bad percent-escapes among them), sent with no other credential. */
export const badCookies: fc.Arbitrary<Record<string, Piece | null>> = fc
  .oneof(
    fc.constantFrom("clanker_session=%ZZ", "clanker_session=%", "clanker_session=%E0%A4%A", "clanker_session=%C0%AF", "clanker_session=",
      "clanker_session", "a=b; clanker_session=%ZZ", "clanker_session=x; clanker_session=%ZZ", "=;;=", "clanker_session=\u00ff"),
    headerText.map((t) => `clanker_session=${t}`),
    hugeHeader(100, 6_000, "clanker_session="),
  )
  .map((cookie): Record<string, Piece | null> => ({ cookie }));

export const anyContentType = contentTypes;
export const bodiesFor = bodies;
