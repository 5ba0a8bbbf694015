// Runs queued executions on the worker pool: dispatch under per-workspace limits, persist streamed blocks
// (grouped into one commit per tick), settle completions (artifact, charge, event, webhook) in one tx, and drain
// on shutdown (no new dispatch; what is still running goes back to `queued`). On PostgreSQL, with other replicas:
// claims and leases (./claims), a queue poll, lease renewal and the reaper of runs whose replica died.
import type { Config } from "../../config";
import { describeError, type ApiError } from "../../lib/errors";
import { encodeId } from "../../lib/ids";
import type { Store } from "../../store/db";
import { ExecutorPool } from "../../executor/pool";
import { providerOf } from "../../executor/providers";
import type { FromWorker, ProviderSpec } from "../../executor/protocol";
import type { EventBus } from "../events/bus";
import type { BillingService } from "../billing/service";
import type { ArtifactsService, WrittenFile } from "../artifacts/service";
import { emittedFiles } from "../artifacts/service";
import type { WebhooksService } from "../webhooks/service";
import type { ByokService } from "../byok/service";
import type { SecretsService } from "../secrets/service";
import type { Catalog } from "../skills/catalog";
import { buildPrompt, type Attachment, type Connector } from "./prompt";
import { creditHold, creditsAllowStart } from "./credit-hold";
import type { ExecutionRow } from "./view";
import type { Log } from "../../lib/log";
import { IdleCollector } from "./idle-collect";
import { inTurn, oneAtATime } from "../../lib/one-at-a-time";
import { EXECUTION_EVENT, RunSettler } from "./settle";
import { POLL_MS, RunClaims, type QueuedRun } from "./claims";
import { readSourceThenLaunch } from "./source-launch";
import { insertBlock, loadRun, markRunning } from "./run-queries";
import { replicaId, setLeaseSeconds } from "../../lib/replica";

export { EXECUTION_EVENT };

/** A run this process runs: where its output goes, the blocks so far and its backstop timer. */
type Running = { workspaceId: number; skillSlug: string; source: string; seq: number; output: string[]; timer: ReturnType<typeof setTimeout> };

export interface RunnerDeps {
  store: Store;
  config: Config;
  bus: EventBus;
  billing: BillingService;
  artifacts: ArtifactsService;
  webhooks: WebhooksService;
  byok: ByokService;
  secrets: Pick<SecretsService, "modelKeysFor">;
  catalog: Catalog;
  log: Log;
  /** `clanker mcp` beside a running server: run only what this process enqueued, and leave the rest alone. */
  ownOnly?: boolean;
  /** Reads a run's connector source (tree, README, paths within the budget): the model's text and the record. */
  sourceContext?: (workspaceId: number, c: Connector) => Promise<{ text: string; record: unknown }>;
}

export class Runner {
  private pool: ExecutorPool | null = null;
  private running = new Map<number, Running>();
  private pendingText: { executionId: number; text: string }[] = [];
  /** Runs whose worker said done/failed in this tick: settled together with the tick's blocks, in one commit. */
  private pendingSettle: Extract<FromWorker, { type: "done" | "failed" }>[] = [];
  private flushScheduled = false;
  private idle = new IdleCollector(
    () => this.running.size > 0 || this.dispatchScheduled || this.dispatches.busy || !this.pool,
    () => (this.pool?.collect(), Bun.gc(true)),
  );
  private dispatchScheduled = false;
  /** A dispatch pass is between its read of the queue and its commit: the next one waits (no run picked twice). */
  private dispatches = oneAtATime(() => this.dispatch());
  /** Flushes (and lease renewals) in turn: one tick's commit is done before the next one reads what it left in memory. */
  private turns = inTurn();
  private stopped = false;
  private adopted = new Set<number>();
  /** Set by pause(): queued runs stay queued, for the next start. */
  private paused = false;
  private onSettled: (() => void) | null = null;

  private settle: RunSettler;
  private claims: RunClaims;
  private readonly shared: boolean;

  constructor(private d: RunnerDeps) {
    this.settle = new RunSettler(d);
    this.claims = new RunClaims({ ...d, settle: this.settle });
    this.shared = d.store.dialect === "postgres";
    setLeaseSeconds(d.config.leaseSeconds);
  }

  /** Settles what a previous process left behind, then starts the pool (nothing is dispatched before). */
  async start(): Promise<void> {
    this.stopped = false;
    if (!this.d.ownOnly) await this.recover();
    if (this.stopped) return;
    this.pool = new ExecutorPool(this.d.config.executor.workers, (m) => this.onMessage(m), this.d.log);
    if (this.shared)
      this.claims.start({
        kick: () => this.kick(),
        running: () => this.running.keys(),
        lost: (id) => this.pool?.cancel(id),
        betweenSettles: (fn) => this.turns(fn),
        reap: !this.d.ownOnly,
        log: this.d.log,
      });
    else if (!this.d.ownOnly) this.claims.poll(() => this.kick(), this.d.log);
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    this.pool?.stop();
    this.pool = null;
    this.idle.stop();
    this.claims.stop();
    for (const r of this.running.values()) clearTimeout(r.timer);
  }

  /**
   * One process (SQLite): runs left `running` by a crash can't be resumed mid-stream: they fail with
   * SERVER_RESTARTED. Replicas (PostgreSQL): only runs whose lease ran out go back to `queued`; a run another live
   * replica holds is its own. Queued ones never started and simply run now.
   */
  async recover(): Promise<void> {
    if (this.shared) {
      const reaped = await this.claims.reap();
      if (reaped) this.d.log.warn(`put ${reaped} run(s) whose replica stopped renewing its lease back to queued`);
      return;
    }
    const failed = await this.claims.failInterrupted();
    if (!failed.length) return;
    this.d.log.warn(`failed ${failed.length} run(s) interrupted by a restart: ${failed.slice(0, 20).join(", ")}${failed.length > 20 ? ` and ${failed.length - 20} more` : ""}`);
  }

  /** Shutdown, first step: start nothing new. Running runs go on; queued ones wait in the database. */
  pause(): void {
    this.paused = true;
  }

  /** The runs this process is executing now. */
  inFlight(): { executionId: string; skillSlug: string }[] {
    return [...this.running].map(([id, r]) => ({ executionId: encodeId("execution", id), skillSlug: r.skillSlug }));
  }

  /** Resolves true once nothing is running, or false after timeoutMs; onSettle hears how many are left as runs end. */
  whenIdle(timeoutMs: number, onSettle: (left: number) => void = () => {}): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (idle: boolean) => {
        clearTimeout(timer);
        this.onSettled = null;
        resolve(idle);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.onSettled = () => (this.running.size ? onSettle(this.running.size) : done(true));
      if (!this.running.size) done(true);
    });
  }

  /**
   * Shutdown, last step: runs still going are put back to `queued` (their partial output dropped), so the next
   * start runs them from the top instead of failing them with SERVER_RESTARTED. Call stop() right after.
   */
  async requeueRunning(): Promise<string[]> {
    // Runs that finished but wait for this tick's commit are settled, not run again.
    await this.flush();
    const left = [...this.running];
    this.running.clear();
    for (const [, r] of left) clearTimeout(r.timer);
    return this.claims.requeue(left.map(([id, r]) => ({ id, workspaceId: r.workspaceId, skillSlug: r.skillSlug, source: r.source })));
  }

  /** Schedules a dispatch; `enqueued` is a run this process just queued. */
  kick(enqueued?: number): void {
    if (enqueued !== undefined) this.adopted.add(enqueued);
    // Runs queued here that another replica took are never seen again here: the oldest marks go.
    if (this.adopted.size > 1000) this.adopted.delete(this.adopted.values().next().value!);
    if (this.dispatchScheduled || !this.pool || this.paused) return;
    this.dispatchScheduled = true;
    setImmediate(() => {
      this.dispatchScheduled = false;
      // Off the request path (a timer): a failed pass is logged, and the next kick (a settle, a new run) retries.
      void this.dispatches.run().catch((err: unknown) => this.d.log.error(`dispatching queued runs failed: ${describeError(err)}`));
    });
  }

  cancel(executionId: number): void {
    this.pool?.cancel(executionId);
  }

  private async dispatch(): Promise<void> {
    if (this.paused || !this.pool) return;
    const { config } = this.d;
    const begin = (id: number) => this.begin(id);
    let launches: (() => void)[];
    if (this.shared) {
      // Hold CLANKER_REPLICA_RUNS at most (defaultReplicaRuns): what it cannot start soon is left for the others.
      const room = config.executor.replicaRuns - this.running.size;
      launches = await this.claims.claim(room, this.ownRuns(), (e) => this.takes(e), begin);
    } else {
      const perWs = new Map<number, number>();
      for (const r of this.running.values()) perWs.set(r.workspaceId, (perWs.get(r.workspaceId) ?? 0) + 1);
      launches = await this.claims.claimLocal(perWs, this.ownRuns(), (e) => this.takes(e), begin);
    }
    for (const launch of launches) launch();
  }

  /**
   * `clanker mcp`: the runs it queued, the only ones it may take (each keeps its mark until it starts, however long
   * its workspace's limit holds it); null: a server takes any.
   */
  private ownRuns(): number[] | null {
    return this.d.ownOnly ? [...this.adopted] : null;
  }

  /**
   * A run queued through this process is taken at once; another process's (a replica, or `clanker mcp` beside a
   * server on SQLite) only once it has waited a poll: that process had the first chance, and its client most likely
   * listens there. `clanker mcp` takes only its own.
   */
  private takes(e: QueuedRun): boolean {
    if (this.adopted.has(e.id)) return true;
    return !this.d.ownOnly && e.createdAt <= Date.now() - POLL_MS;
  }

  /** Inside dispatch's tx: marks one run running (or fails it); returns what starts it after the commit. */
  private async begin(id: number): Promise<(() => void) | null> {
    const { config, catalog, store } = this.d;
    // Read in this tx: a run cancelled since the queue was read is left alone.
    const e = await this.load(id);
    if (e?.status !== "queued") return null;
    const zero = { inputTokens: 0, outputTokens: 0 };
    const skill = catalog.bySlug.get(e.skillSlug);
    let provider: ProviderSpec;
    try {
      provider = await providerOf(this.d, e.workspaceId, e.skillSlug);
      // Again at the start, not only at the POST (runs queued behind others may find the credits spent), and net of
      // what the running runs may still spend (./credit-hold): if that takes the rest, this one waits, queued.
      if (!provider.byok && !(await creditsAllowStart(this.d, e.workspaceId))) return null;
    } catch (err) {
      await this.settle.finalize(e, "failed", zero, { code: (err as ApiError).code ?? "MODEL_NOT_CONFIGURED", message: (err as Error).message });
      return null;
    }
    if (!skill) {
      await this.settle.finalize(e, "failed", zero, { code: "SKILL_UNAVAILABLE", message: `The skill '${e.skillSlug}' is no longer in the catalog` });
      return null;
    }
    const attachments = (e.attachments ?? []) as Attachment[];
    const heldMicro = provider.byok ? 0 : creditHold(this.d, skill, e.input, attachments);
    await markRunning(store, { id: e.id, now: Date.now(), provider: provider.kind, model: provider.model, byok: provider.byok, heldMicro, ...this.claims.lease() });
    await this.d.bus.append(e.workspaceId, EXECUTION_EVENT, e.interface, { executionId: encodeId("execution", e.id), skillSlug: e.skillSlug, status: "running", blocks: [] });
    return () => {
        this.adopted.delete(e.id);
        const timer = setTimeout(() => this.onTimeout(e.id), config.executor.timeoutMs + 10_000);
        this.running.set(e.id, { workspaceId: e.workspaceId, skillSlug: e.skillSlug, source: e.interface, seq: e.blocksBase, output: [], timer });
        const launch = (sourceText?: string) => {
          const { system, user } = buildPrompt(skill, e.input, attachments, e.connector ?? undefined, sourceText);
          this.pool?.run({ executionId: e.id, provider, system, user, maxOutputTokens: config.models.maxOutputTokens, timeoutMs: config.executor.timeoutMs });
        };
        if (!e.connector || !this.d.sourceContext) launch();
        else readSourceThenLaunch({ store: this.d.store, sourceContext: this.d.sourceContext }, e, e.connector, { live: () => this.running.has(e.id), launch, fail: (m) => this.onMessage(m) });
    };
  }

  private onTimeout(executionId: number): void {
    // The worker enforces the timeout itself; this is the backstop for a worker that stopped answering.
    if (!this.running.has(executionId)) return;
    this.pool?.cancel(executionId);
    this.onMessage({ type: "failed", executionId, code: "TIMEOUT", message: "The run exceeded its timeout", usage: { inputTokens: 0, outputTokens: 0 } });
  }

  private onMessage(m: FromWorker): void {
    if (m.type === "ready") return;
    if (!this.running.has(m.executionId)) return; // already settled (cancel, timeout)
    if (m.type === "text") this.pendingText.push({ executionId: m.executionId, text: m.text });
    else if (this.pendingSettle.some((p) => p.executionId === m.executionId)) return; // a timeout raced the worker's answer
    else this.pendingSettle.push(m);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.scheduledFlush());
    }
  }

  /** From a timer: flushOnce handles its own store failures; anything else is logged, not thrown into the loop. */
  private scheduledFlush(): void {
    void this.flush().catch((err: unknown) => this.d.log.error(`settling runs failed: ${describeError(err)}`));
  }

  /** Queues a flush after the one in progress (flushes never overlap); resolves once it is done. */
  private flush(): Promise<void> {
    return this.turns(() => this.flushOnce());
  }

  /**
   * Everything workers said in this tick, for every run, in one commit: output blocks first, then the runs
   * that ended (artifact, charge, event, webhook). Each run's blocks still precede its final event.
   */
  private async flushOnce(): Promise<void> {
    this.flushScheduled = false;
    if (!this.pendingText.length && !this.pendingSettle.length) return;
    const texts = this.pendingText;
    const ends = this.pendingSettle;
    this.pendingText = [];
    this.pendingSettle = [];
    const { store, bus, artifacts } = this.d;
    const now = Date.now();
    // Files are written before the commit that points rows at them (never a row without its file), outside the tx,
    // for every run this process is running: the tx reads each run and keeps them only if it is still ours (not read
    // here as well: on PostgreSQL that was a round trip per ending run, one after another, before the tx began).
    // `live`/`e`: as read inside the tx (set by its last attempt).
    type Settle = { m: (typeof ends)[number]; r: Running; e: ExecutionRow | undefined; live: boolean; written: WrittenFile[] };
    const writeOutputs = async (m: (typeof ends)[number]): Promise<Settle | null> => {
      const r = this.running.get(m.executionId);
      if (!r) return null;
      let output = r.output.join("");
      for (const t of texts) if (t.executionId === m.executionId) output += t.text;
      const written =
        m.type === "done" ? await artifacts.writeFiles(r.workspaceId, m.executionId, [{ name: `${r.skillSlug}-output.md`, mediaType: "text/markdown", content: output }, ...emittedFiles(output)]) : [];
      return { m, r, e: undefined, live: false, written };
    };
    // What the transaction changes in memory: put back if it fails, and at the start of every attempt.
    const before = new Map<number, { seq: number; len: number }>();
    for (const { executionId } of texts) {
      const r = this.running.get(executionId);
      if (r && !before.has(executionId)) before.set(executionId, { seq: r.seq, len: r.output.length });
    }
    const restore = () => {
      for (const [id, b] of before) {
        const r = this.running.get(id);
        if (r) ((r.seq = b.seq), (r.output.length = b.len));
      }
    };
    let settles: Settle[];
    try {
      settles = (await Promise.all(ends.map(writeOutputs))).filter((s) => s !== null);
      await store.tx(async () => {
        restore();
        // A run another replica took back (its lease ran out) gets no more blocks from here.
        const held = await this.claims.held([...before.keys()]);
        for (const { executionId, text } of texts) {
          const r = this.running.get(executionId);
          if (!r || !held.has(executionId)) continue;
          const seq = ++r.seq;
          r.output.push(text);
          await store.pipeline(insertBlock(store, { executionId, seq, content: text, now }));
          await bus.append(r.workspaceId, EXECUTION_EVENT, r.source, { executionId: encodeId("execution", executionId), skillSlug: r.skillSlug, status: "running", blocks: [{ index: seq, type: "text", content: text }] });
        }
        for (const s of settles) {
          // A cancel or a take-back may have committed since the worker answered.
          s.e = await this.load(s.m.executionId);
          s.live = this.mine(s.e);
          if (!s.live) continue;
          const { m, e, written } = s;
          if (m.type === "done") {
            const rows = await artifacts.insert(e!.workspaceId, e!.id, e!.skillSlug, written);
            await this.settle.finalize(e!, "completed", m.usage, null, rows.map((a) => a.id), replicaId);
          } else await this.settle.finalize(e!, "failed", m.usage, { code: m.code, message: m.message }, [], replicaId);
        }
      });
    } catch (err) {
      // A file that could not be written (disk full), SQLITE_BUSY / FULL / IOERR: nothing of this tick is committed.
      // Undo the in-memory side, put the messages back in front and try again shortly (files written again, over
      // themselves), rather than let the throw escape the timer or strand the runs.
      restore();
      this.pendingText = texts.concat(this.pendingText);
      this.pendingSettle = ends.concat(this.pendingSettle);
      this.d.log.error(`saving ${texts.length} output block(s) and ${ends.length} finished run(s) failed, retrying: ${describeError(err)}`);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setTimeout(() => this.scheduledFlush(), 200).unref?.();
      }
      return;
    }
    for (const { m, r, live } of settles) {
      clearTimeout(r.timer);
      this.running.delete(m.executionId);
      // A provider's failure (a wrong key, an outage) is the operator's business too; cancels and timeouts are not.
      if (live && m.type === "failed" && m.code.startsWith("MODEL_"))
        this.d.log.warn(`run ${encodeId("execution", m.executionId)} (${r.skillSlug}) failed: ${m.code}: ${m.message}`, { executionId: encodeId("execution", m.executionId), code: m.code });
    }
    for (const { m, e, live, written } of settles) {
      if (live) continue;
      // Cancelled before its answer was saved: no artifact row points at files written for it.
      artifacts.discard(written);
      // Only a cancel of a run this replica held is charged here; a run taken back is another replica's to settle.
      if (e?.status === "cancelled" && e.leaseOwner === replicaId) await this.settle.cancelled(e, m.usage);
      else if (e) this.d.log.warn(`run ${encodeId("execution", e.id)} was taken back by another replica; its result here is dropped`);
    }
    if (settles.length) {
      this.onSettled?.();
      this.kick();
      this.idle.noteSettled(settles.length, !this.running.size);
    }
  }

  /** Still running under this replica's lease (every run this process started, on SQLite). */
  private mine(e: ExecutionRow | undefined): e is ExecutionRow {
    return !!e && e.status === "running" && e.leaseOwner === replicaId;
  }

  private async load(executionId: number): Promise<ExecutionRow | undefined> {
    const [row] = await loadRun(this.d.store, { id: executionId });
    return row;
  }
}
