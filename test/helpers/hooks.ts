// Inbound hook deliveries as a sender would make them: Clanker and GitHub signatures, and an unauthenticated POST.
import { createHmac } from "node:crypto";
import { readResponse, type ApiResponse } from "./server";

/** Unix time in seconds, the `t=` of a Clanker signature. */
export const nowS = () => Math.floor(Date.now() / 1000);

/** A `clanker-signature` header value: t=<seconds>,v1=HMAC-SHA256(secret, "<t>.<body>"). */
export const clankerSig = (secret: string, body: string, t = nowS()) => `t=${t},v1=${createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")}`;

/** An `x-hub-signature-256` header value, as GitHub signs a delivery. */
export const githubSig = (secret: string, body: string) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

/** POSTs raw bytes as JSON to a hook, with no credentials (as GitHub or another service would). */
export async function fire(hookUrl: string, body: string, headers: Record<string, string>): Promise<ApiResponse> {
  return readResponse(await fetch(hookUrl, { method: "POST", body, headers: { "content-type": "application/json", ...headers } }));
}
