// Device activation (like `gh auth login`): a CLI asks for a short code, a signed-in person approves it,
// the CLI's poll receives a key for that person's workspace exactly once. Codes are stored as keyed hashes.
import { and, eq, lt } from "drizzle-orm";
import { randomInt } from "../../lib/crypto";
import type { Caller, Ctx } from "../../lib/context";
import { ApiError, InvalidRequestError, PermissionError } from "../../lib/errors";
import { encodeId } from "../../lib/ids";
import type { SecretBox } from "../../lib/secret-box";
import type { Store } from "../../store/db";
import { writeAudit } from "../../store/audit";
import { deviceCodes } from "../../store/schema";
import { mintApiKey } from "../api-keys/service";
import { stillMember } from "../workspaces/members";
import type { BillingService } from "../billing/service";

export const DEVICE_CODE_TTL_S = 300;
const LETTERS = "BCDFGHJKLMNPQRSTVWXZ"; // no vowels: no words, no 0/O or 1/I confusion

export function normalizeDeviceCode(raw: string): string {
  return raw.trim().toUpperCase().replace(/[^A-Z0-9]/g, "").replace(/^(.{4})(.{4})$/, "$1-$2");
}

export function createDeviceService(store: Store, box: SecretBox, billing: BillingService, pollIntervalS: number) {
  const db = store.db;
  const hashOf = (code: string) => box.mac(`device:${normalizeDeviceCode(code)}`);
  // The gap is measured between arrivals: a client that waits the interval, as told, sees its polls arrive a little
  // early now and then (its timer, the network). A fifth of the interval, at most a second, is not "too fast".
  const minPollGapMs = pollIntervalS * 1000 - Math.min(1000, pollIntervalS * 200);

  async function find(code: string) {
    const [row] = await db.select().from(deviceCodes).where(eq(deviceCodes.codeHash, hashOf(code)));
    if (!row) throw new InvalidRequestError("Unknown activation code", "code", "invalid_code");
    return row;
  }

  /** Records a poll (the interval is measured from the last one, even a refused one). */
  async function touch(id: number, now: number): Promise<void> {
    await store.tx(async () => {
      await db.update(deviceCodes).set({ lastPolledAt: now }).where(eq(deviceCodes.id, id));
    });
  }

  /** A signed-in person approves or denies a pending code, once. */
  async function decide(ctx: Ctx, code: string, status: "approved" | "denied"): Promise<void> {
    const verb = status === "approved" ? "Approve" : "Deny";
    if (ctx.actor.kind !== "user") throw new PermissionError(`${verb} activation codes from a signed-in session, not with an API key`, "SESSION_REQUIRED");
    const row = await find(code);
    if (row.expiresAt <= Date.now()) throw new InvalidRequestError("This code has expired; ask the device for a new one", "code", "expired_token");
    const decided = () => new InvalidRequestError(`This code was already ${row.status === "denied" ? "denied" : "approved"}`, "code", "code_used");
    if (row.status !== "pending") throw decided();
    await store.tx(async () => {
      const changed = await db
        .update(deviceCodes)
        .set(status === "approved" ? { status, userId: ctx.actor.userId, workspaceId: ctx.workspaceId } : { status })
        .where(and(eq(deviceCodes.id, row.id), eq(deviceCodes.status, "pending")))
        .returning({ id: deviceCodes.id });
      if (changed.length === 0) throw decided();
      await writeAudit(store, ctx, { action: status === "approved" ? "device.approve" : "device.deny", resourceType: "device_code", resourceId: null });
    });
  }

  return {
    async start(base: string) {
      const code = `${Array.from({ length: 4 }, () => LETTERS[randomInt(0, LETTERS.length)]).join("")}-${String(randomInt(0, 10_000)).padStart(4, "0")}`;
      const now = Date.now();
      await store.tx(async () => {
        await db.insert(deviceCodes).values({ codeHash: hashOf(code), status: "pending", expiresAt: now + DEVICE_CODE_TTL_S * 1000, createdAt: now });
      });
      return { code, verification_url: `${base}/activate`, app_download_url: `${base}/activate`, expires_in: DEVICE_CODE_TTL_S, interval: pollIntervalS };
    },

    async poll(code: string, caller: Caller) {
      const row = await find(code);
      const now = Date.now();
      if (row.status === "consumed") throw new InvalidRequestError("This code was already used; request a new one", "code", "code_used");
      if (row.status === "denied") throw new InvalidRequestError("The person asked to approve this code denied it; request a new one if that was a mistake", "code", "access_denied");
      if (row.expiresAt <= now) throw new InvalidRequestError("This code has expired; request a new one", "code", "expired_token");
      if (row.lastPolledAt !== null && now - row.lastPolledAt < minPollGapMs) {
        await touch(row.id, now);
        throw new ApiError("rate_limit_error", `Polling too fast: wait ${pollIntervalS} s between polls`, { code: "slow_down", headers: { "retry-after": String(pollIntervalS) } });
      }
      if (row.status === "pending") {
        await touch(row.id, now);
        return { status: "pending" as const };
      }
      // Approved: the key is minted now, shown in this answer only, and the code is spent.
      const out = await store.tx(async () => {
        // Spent first, and only if still approved: of two polls racing past the checks above, one gets the key.
        const spent = await db
          .update(deviceCodes)
          .set({ status: "consumed", lastPolledAt: now })
          .where(and(eq(deviceCodes.id, row.id), eq(deviceCodes.status, "approved")))
          .returning({ id: deviceCodes.id });
        if (spent.length === 0) throw new InvalidRequestError("This code was already used; request a new one", "code", "code_used");
        // Its approver removed from the workspace since: no key, and the code ends as denied.
        if (!(await stillMember(store, row.workspaceId!, row.userId!))) {
          await db.update(deviceCodes).set({ status: "denied" }).where(eq(deviceCodes.id, row.id));
          return null;
        }
        const { row: key, secret } = await mintApiKey(store, { workspaceId: row.workspaceId!, userId: row.userId!, name: "Device activation" });
        await writeAudit(store, { ...caller, workspaceId: row.workspaceId!, actor: { kind: "user", userId: row.userId! }, role: "member" }, {
          action: "api_key.create",
          resourceType: "api_key",
          resourceId: encodeId("apiKey", key.id),
          metadata: { via: "device_activation" },
        });
        const { tier } = (await billing.account(row.workspaceId!)) as { tier: string };
        return { status: "completed" as const, api_key: secret, tier };
      });
      if (!out) throw new InvalidRequestError("The person who approved this code is no longer a member of that workspace; request a new code", "code", "access_denied");
      return out;
    },

    /** Forgets activation codes a day past their expiry (run by the scheduler). */
    async prune(now = Date.now()): Promise<void> {
      await store.tx(async () => {
        await db.delete(deviceCodes).where(lt(deviceCodes.expiresAt, now - 24 * 3600 * 1000));
      });
    },

    async confirm(ctx: Ctx, code: string) {
      await decide(ctx, code, "approved");
      return { status: "approved" as const, workspaceId: encodeId("workspace", ctx.workspaceId) };
    },

    /** A code the person did not start: the device's next poll hears access_denied (RFC 8628) and gets no key. */
    async deny(ctx: Ctx, code: string) {
      await decide(ctx, code, "denied");
      return { status: "denied" as const };
    },

  };
}

export type DeviceService = ReturnType<typeof createDeviceService>;
