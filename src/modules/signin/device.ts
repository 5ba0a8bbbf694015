// Device activation (like `gh auth login`): a CLI asks for a short code, a signed-in person approves it,
// the CLI's poll receives a key for that person's workspace exactly once. Codes are stored as keyed hashes.
import { eq, lt } from "drizzle-orm";
import { randomInt } from "node:crypto";
import type { Ctx } from "../../lib/context";
import { ApiError, InvalidRequestError, PermissionError } from "../../lib/errors";
import { encodeId } from "../../lib/ids";
import type { SecretBox } from "../../lib/secret-box";
import type { Store } from "../../store/db";
import { writeAudit } from "../../store/audit";
import { deviceCodes } from "../../store/schema";
import { mintApiKey } from "../api-keys/service";
import type { BillingService } from "../billing/service";

export const DEVICE_CODE_TTL_S = 300;
const LETTERS = "BCDFGHJKLMNPQRSTVWXZ"; // no vowels: no words, no 0/O or 1/I confusion

export function normalizeDeviceCode(raw: string): string {
  return raw.trim().toUpperCase().replace(/[^A-Z0-9]/g, "").replace(/^(.{4})(.{4})$/, "$1-$2");
}

export function createDeviceService(store: Store, box: SecretBox, billing: BillingService, pollIntervalS: number) {
  const db = store.db;
  const hashOf = (code: string) => box.mac(`device:${normalizeDeviceCode(code)}`);

  function find(code: string) {
    const row = db.select().from(deviceCodes).where(eq(deviceCodes.codeHash, hashOf(code))).get();
    if (!row) throw new InvalidRequestError("Unknown activation code", "code", "invalid_code");
    return row;
  }

  return {
    start(base: string) {
      const code = `${Array.from({ length: 4 }, () => LETTERS[randomInt(LETTERS.length)]).join("")}-${String(randomInt(0, 10_000)).padStart(4, "0")}`;
      const now = Date.now();
      db.insert(deviceCodes).values({ codeHash: hashOf(code), status: "pending", expiresAt: now + DEVICE_CODE_TTL_S * 1000, createdAt: now }).run();
      return { code, verification_url: `${base}/activate`, app_download_url: `${base}/activate`, expires_in: DEVICE_CODE_TTL_S, interval: pollIntervalS };
    },

    poll(code: string) {
      const row = find(code);
      const now = Date.now();
      if (row.status === "consumed") throw new InvalidRequestError("This code was already used; request a new one", "code", "code_used");
      if (row.expiresAt <= now) throw new InvalidRequestError("This code has expired; request a new one", "code", "expired_token");
      if (row.lastPolledAt !== null && now - row.lastPolledAt < pollIntervalS * 1000) {
        db.update(deviceCodes).set({ lastPolledAt: now }).where(eq(deviceCodes.id, row.id)).run();
        throw new ApiError("rate_limit_error", `Polling too fast: wait ${pollIntervalS} s between polls`, { code: "slow_down", headers: { "retry-after": String(pollIntervalS) } });
      }
      if (row.status === "pending") {
        db.update(deviceCodes).set({ lastPolledAt: now }).where(eq(deviceCodes.id, row.id)).run();
        return { status: "pending" as const };
      }
      // Approved: the key is minted now, shown in this answer only, and the code is spent.
      return store.tx(() => {
        const { row: key, secret } = mintApiKey(store, { workspaceId: row.workspaceId!, userId: row.userId!, name: "Device activation" });
        db.update(deviceCodes).set({ status: "consumed", lastPolledAt: now }).where(eq(deviceCodes.id, row.id)).run();
        writeAudit(store, { workspaceId: row.workspaceId!, actor: { kind: "user", userId: row.userId! }, role: "member", requestId: "device-activation" }, {
          action: "api_key.create",
          resourceType: "api_key",
          resourceId: encodeId("apiKey", key.id),
          metadata: { via: "device_activation" },
        });
        return { status: "completed" as const, api_key: secret, tier: billing.account(row.workspaceId!).tier };
      });
    },

    /** Forgets activation codes a day past their expiry (run by the scheduler). */
    prune(now = Date.now()): void {
      db.delete(deviceCodes).where(lt(deviceCodes.expiresAt, now - 24 * 3600 * 1000)).run();
    },

    confirm(ctx: Ctx, code: string) {
      if (ctx.actor.kind !== "user") throw new PermissionError("Approve activation codes from a signed-in session, not with an API key", "SESSION_REQUIRED");
      const row = find(code);
      if (row.expiresAt <= Date.now()) throw new InvalidRequestError("This code has expired; ask the device for a new one", "code", "expired_token");
      if (row.status !== "pending") throw new InvalidRequestError("This code was already approved", "code", "code_used");
      store.tx(() => {
        db.update(deviceCodes).set({ status: "approved", userId: ctx.actor.userId, workspaceId: ctx.workspaceId }).where(eq(deviceCodes.id, row.id)).run();
        writeAudit(store, ctx, { action: "device.approve", resourceType: "device_code", resourceId: null });
      });
      return { status: "approved" as const, workspaceId: encodeId("workspace", ctx.workspaceId) };
    },

  };
}

export type DeviceService = ReturnType<typeof createDeviceService>;
