// Runs queued executions on the worker pool: dispatch under per-workspace limits, persist streamed blocks and
// settle completions (artifact, charge, event, webhook) through ./run-output, one commit per tick, and drain
// on shutdown (no new dispatch; what is still running goes back to `queued`). On PostgreSQL, with other replicas:
// claims and leases (./claims), a queue poll, lease renewal and the reaper of runs whose replica died.
import type { Config } from "../../config";
import { describeError, type ApiError } from "../../lib/errors";
import { encodeId } from "../../lib/ids";
import type { Store } from "../../store/db";
import { ExecutorPool } from "../../executor/pool";
import { providerOf } from "../../executor/providers";
import { timeoutMessage, type ProviderSpec, type RunMessage } from "../../executor/protocol";
import type { EventBus } from "../events/bus";
import type { BillingService } from "../billing/service";
import type { ArtifactsService } from "../artifacts/service";
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
import { loadRun, markRunning } from "./run-queries";
import { RunOutputs, type Running, type Settled } from "./run-output";
import { replicaId, setLeaseSeconds } from "../../lib/replica";
import { runningServerUrl } from "../../store/data-lock";
import type { Fanout } from "../../shared";

export { EXECUTION_EVENT };

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
  /** The replicas' channels (Redis): a cancel reaches the replica running the run at once. */
  fanout?: Fanout | null;
}

const CANCEL_CHANNEL = "run-cancel";

export class Runner {
  private pool: ExecutorPool | null = null;
  private running = new Map<number, Running>();
  /** What workers say, saved in one commit per tick (./run-output). */
  private outputs: RunOutputs;
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
    this.outputs = new RunOutputs({
      ...d,
      claims: this.claims,
      settle: this.settle,
      running: this.running,
      turns: this.turns,
      settled: (s) => this.settled(s),
      stopWorker: (id) => this.pool?.cancel(id),
      giveUpMs: d.config.executor.timeoutMs,
    });
    this.shared = d.store.dialect === "postgres";
    setLeaseSeconds(d.config.leaseSeconds);
    d.fanout?.subscribe(CANCEL_CHANNEL, (id) => this.pool?.cancel(Number(id)));
  }

  /** Settles what a previous process left behind, then starts the pool (nothing is dispatched before). */
  async start(): Promise<void> {
    this.stopped = false;
    if (!this.d.ownOnly) await this.recover();
    if (this.stopped) return;
    this.pool = new ExecutorPool(this.d.config.executor.workers, (m) => this.onMessage(m), this.d.log);
    // On SQLite too: a `clanker mcp` beside the server holds its runs under a lease, and one killed mid-run leaves
    // them to the server once the lease runs out, as a replica that died leaves its runs to the others.
    this.claims.start({
      kick: () => this.kick(),
      running: () => this.running.keys(),
      lost: (id) => this.pool?.cancel(id),
      betweenSettles: (fn) => this.turns(fn),
      reap: !this.d.ownOnly,
      // SQLite: `clanker mcp` takes only the runs it queued itself, and knows of each as it queues it.
      poll: this.shared || !this.d.ownOnly,
      log: this.d.log,
    });
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
   * SQLite: runs left `running` by a crash can't be resumed mid-stream: they fail with SERVER_RESTARTED (a run a
   * live `clanker mcp` holds is its own). Replicas (PostgreSQL): only runs whose lease ran out go back to `queued`; a
   * run another live replica holds is its own. Queued ones never started and simply run now.
   */
  async recover(): Promise<void> {
    if (this.shared) {
      const reaped = await this.claims.reap();
      if (reaped) this.d.log.warn(`put ${reaped} run(s) whose holder is gone (a replica whose lease ran out, a clanker mcp that stopped) back to queued`);
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
    await this.outputs.flush(true);
    const left = [...this.running];
    this.running.clear();
    for (const [, r] of left) clearTimeout(r.timer);
    return this.claims.requeue(left.map(([id, r]) => ({ id, workspaceId: r.workspaceId, skillSlug: r.skillSlug, source: r.source })));
  }

  /**
   * `clanker mcp` with no model of its own (no ANTHROPIC_API_KEY, no OPENAI_BASE_URL in its environment) beside a
   * server on its data dir: the runs it queues are the server's to run, with the server's model settings. Its MCP
   * client's config names only a key: it ran none (MODEL_NOT_CONFIGURED) while the server had a model.
   */
  leavesRunsToServer(): boolean {
    const { models, dataDir } = this.d.config;
    return !!this.d.ownOnly && !models.anthropicApiKey && !models.openaiBaseUrl && runningServerUrl(dataDir) !== null;
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

  /**
   * Stops the run's model stream where it runs. With replicas that may be another one, which otherwise learnt of the
   * cancel only at its next flush or lease renewal (seconds of streaming, charged); the fan-out calls this replica's
   * own subscriber too.
   */
  cancel(executionId: number): void {
    if (this.d.fanout) this.d.fanout.publish(CANCEL_CHANNEL, String(executionId));
    else this.pool?.cancel(executionId);
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
    const heldMicro = provider.byok ? 0 : creditHold(this.d, skill, e.input, attachments, !!e.connector);
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
    this.onMessage({ type: "failed", executionId, code: "TIMEOUT", message: timeoutMessage(this.d.config.executor.timeoutMs), usage: { inputTokens: 0, outputTokens: 0 } });
  }

  private onMessage(m: RunMessage): void {
    if (m.type === "ready") return;
    if (!this.running.has(m.executionId)) return; // already settled (cancel, timeout)
    this.outputs.add(m);
  }

  /** After a commit, the runs it ended: let go here; a cancel's charge; what waited for their room is dispatched. */
  private async settled(settles: Settled[]): Promise<void> {
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
      this.d.artifacts.discard(written);
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

  private async load(executionId: number): Promise<ExecutionRow | undefined> {
    const [row] = await loadRun(this.d.store, { id: executionId });
    return row;
  }
}
