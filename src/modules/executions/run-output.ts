// What the workers say about the runs this process runs, saved: output blocks and run ends (artifact, charge, event,
// webhook), everything said in one tick in one commit. When that commit fails, each of its runs is tried again on
// its own, so that one run that cannot be saved (a file the disk refuses, a row the database refuses) holds back no
// other run. A run that fails on its own is tried again after a pause that doubles (up to 5 s): a full disk or a
// blocked folder may be cleared meanwhile. Once it has failed for as long as a run may last, it ends as failed
// (OUTPUT_NOT_SAVED, not charged: the fault is the server's) instead of showing `running` forever.
import { LOCK_SPACES, type Store } from "../../store/db";
import type { FromWorker, RunMessage } from "../../executor/protocol";
import type { Log } from "../../lib/log";
import { describeError } from "../../lib/errors";
import { encodeId } from "../../lib/ids";
import { replicaId } from "../../lib/replica";
import type { EventBus } from "../events/bus";
import { emittedFiles, type ArtifactsService, type WrittenFile } from "../artifacts/service";
import type { RunClaims } from "./claims";
import { insertBlock, loadRun, lockRuns } from "./run-queries";
import { EXECUTION_EVENT, type RunSettler } from "./settle";
import type { ExecutionRow } from "./view";

/** A run this process runs: where its output goes, the blocks so far and its backstop timer. */
export type Running = { workspaceId: number; skillSlug: string; source: string; seq: number; output: string[]; timer: ReturnType<typeof setTimeout> };

type End = Extract<FromWorker, { type: "done" | "failed" }>;
type Text = { executionId: number; text: string };
type Batch = { texts: Text[]; ends: End[] };

/** A run's end as its commit left it: `e` and `live` as read inside the tx (still this replica's, still running). */
export type Settled = { m: End; r: Running; e: ExecutionRow | undefined; live: boolean; written: WrittenFile[] };

/** A run whose own save failed: since when, how often, when to try again; `end`: the failure it was given up with. */
type Failing = { since: number; failures: number; next: number; end: End | null };

const RETRY_MS = 200;
const MAX_RETRY_MS = 5_000;

export interface RunOutputDeps {
  store: Store;
  bus: EventBus;
  artifacts: ArtifactsService;
  log: Log;
  claims: Pick<RunClaims, "held">;
  settle: RunSettler;
  /** The runs this process runs (the runner's map: read here, entries removed by the runner once settled). */
  running: Map<number, Running>;
  /** Saves take turns with the runner's lease renewals (see Runner.turns). */
  turns: <T>(task: () => Promise<T>) => Promise<T>;
  /** After a commit, the runs it ended: the runner lets them go, charges cancels, dispatches what waited. */
  settled: (s: Settled[]) => Promise<void>;
  /** Stops a run's worker (a run given up before its worker answered). */
  stopWorker: (executionId: number) => void;
  /** How long a run may fail to be saved before it is given up: a run's time limit. */
  giveUpMs: number;
}

export class RunOutputs {
  private texts: Text[] = [];
  /** Runs whose worker said done/failed since the last save. */
  private ends: End[] = [];
  private immediate = false;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private failing = new Map<number, Failing>();

  constructor(private d: RunOutputDeps) {}

  /** A worker's message about a run this process runs. */
  add(m: Exclude<RunMessage, { type: "ready" }>): void {
    if (m.type === "text") this.texts.push({ executionId: m.executionId, text: m.text });
    else if (this.ends.some((p) => p.executionId === m.executionId)) return; // a timeout raced the worker's answer
    else this.ends.push(m);
    if (!this.immediate) {
      this.immediate = true;
      setImmediate(() => this.scheduledFlush());
    }
  }

  /** Saves what is waiting (after the save in progress: saves never overlap). `all`: runs pausing after a failure too. */
  flush(all = false): Promise<void> {
    return this.d.turns(() => this.flushOnce(all));
  }

  /** Runs the runner let go (put back to the queue at shutdown) are no longer failing: what they said is dropped at its save. */
  private forget(): void {
    for (const id of this.failing.keys()) if (!this.d.running.has(id)) this.failing.delete(id);
  }

  /** From a timer: a save handles its own store failures; anything else is logged, not thrown into the loop. */
  private scheduledFlush(): void {
    void this.flush().catch((err: unknown) => this.d.log.error(`settling runs failed: ${describeError(err)}`));
  }

  private async flushOnce(all: boolean): Promise<void> {
    this.immediate = false;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.forget();
    if (!this.texts.length && !this.ends.length && !this.failing.size) return;
    const now = Date.now();
    const due = (f: Failing) => all || f.next <= now;
    const together: Batch = { texts: [], ends: [] };
    const alone = new Map<number, Batch>();
    const later: Batch = { texts: [], ends: [] };
    const batchOf = (id: number): Batch | null => {
      const f = this.failing.get(id);
      if (!f) return together;
      if (!due(f)) return later;
      // A run given up is saved as its failure alone: its blocks, and what its worker said since, are dropped.
      if (f.end) return null;
      let b = alone.get(id);
      if (!b) alone.set(id, (b = { texts: [], ends: [] }));
      return b;
    };
    for (const t of this.texts) batchOf(t.executionId)?.texts.push(t);
    for (const m of this.ends) batchOf(m.executionId)?.ends.push(m);
    this.texts = later.texts;
    this.ends = later.ends;
    for (const [id, f] of this.failing) if (f.end && due(f)) alone.set(id, { texts: [], ends: [f.end] });
    if (together.texts.length || together.ends.length) await this.save(together);
    for (const b of alone.values()) await this.save(b);
    this.scheduleRetry();
  }

  /**
   * Gives up a run whose own save failed again once its whole time limit had passed (every try till then was of its
   * real output, so a store back by then saves it): it is to fail, and its worker is stopped.
   */
  private giveUp(id: number, f: Failing): void {
    this.d.stopWorker(id);
    const seconds = Math.round((Date.now() - f.since) / 1000);
    const message = `The server could not save this run's output for ${seconds} s (see its log); rerun it`;
    f.end = { type: "failed", executionId: id, code: "OUTPUT_NOT_SAVED", message, usage: { inputTokens: 0, outputTokens: 0 } };
    f.next = Date.now();
    this.d.log.error(`gave up saving run ${encodeId("execution", id)} after ${f.failures} failed attempt(s): it fails with OUTPUT_NOT_SAVED`, { executionId: encodeId("execution", id) });
  }

  /**
   * One commit: the blocks first, then the runs that ended (artifact, charge, event, webhook); each run's blocks
   * still precede its final event. On failure, nothing of it is committed and it waits to be tried again.
   */
  private async save(b: Batch): Promise<void> {
    const { store, bus, artifacts, running, claims, settle } = this.d;
    const { texts, ends } = b;
    const now = Date.now();
    // Files are written before the commit that points rows at them (never a row without its file), outside the tx,
    // for every run this process is running: the tx reads each run and keeps them only if it is still ours (not read
    // here as well: on PostgreSQL that was a round trip per ending run, one after another, before the tx began).
    const writeOutputs = async (m: End): Promise<Settled | null> => {
      const r = running.get(m.executionId);
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
      const r = running.get(executionId);
      if (r && !before.has(executionId)) before.set(executionId, { seq: r.seq, len: r.output.length });
    }
    const restore = () => {
      for (const [id, was] of before) {
        const r = running.get(id);
        if (r) ((r.seq = was.seq), (r.output.length = was.len));
      }
    };
    let settles: Settled[] = [];
    try {
      const writes = await Promise.allSettled(ends.map(writeOutputs));
      settles = writes.flatMap((w) => (w.status === "fulfilled" && w.value ? [w.value] : []));
      const refused = writes.find((w) => w.status === "rejected");
      if (refused) throw refused.reason;
      await store.tx(async () => {
        restore();
        // PostgreSQL: the rows of the runs ending and of those getting blocks, then every workspace's events lock in id
        // order, before any append: the order a cancel and a dispatch take them in, and one order for two replicas'
        // saves of the same workspaces. A run getting blocks is locked too: read from this SERIALIZABLE tx's snapshot
        // alone, a cancel committed while it waited for the events lock still read `running`, and its blocks were
        // saved and sent after the cancelled event. Locked, that cancel fails this try, and the next one sees it.
        await lockRuns(store, [...new Set([...settles.map((s) => s.m.executionId), ...before.keys()])]);
        const spaces = new Set([...texts, ...ends].map((m) => running.get(m.executionId)?.workspaceId).filter((w) => w !== undefined));
        for (const ws of [...spaces].sort((x, y) => x - y)) await store.lockInTx(LOCK_SPACES.events, ws);
        // A run cancelled since its worker wrote, or taken back by another replica, gets no more blocks from here.
        const held = await claims.held([...before.keys()]);
        for (const { executionId, text } of texts) {
          const r = running.get(executionId);
          if (!r || !held.has(executionId)) continue;
          const seq = ++r.seq;
          r.output.push(text);
          await store.pipeline(insertBlock(store, { executionId, seq, content: text, now }));
          await bus.append(r.workspaceId, EXECUTION_EVENT, r.source, { executionId: encodeId("execution", executionId), skillSlug: r.skillSlug, status: "running", blocks: [{ index: seq, type: "text", content: text }] });
        }
        for (const s of settles) {
          // A cancel or a take-back may have committed since the worker answered.
          [s.e] = await loadRun(store, { id: s.m.executionId });
          s.live = !!s.e && s.e.status === "running" && s.e.leaseOwner === replicaId;
          if (!s.live) continue;
          const { m, e, written } = s;
          if (m.type === "done") {
            const rows = await artifacts.insert(e!.workspaceId, e!.id, e!.skillSlug, written);
            await settle.finalize(e!, "completed", m.usage, null, rows.map((a) => a.id), replicaId, m.stopReason);
          } else await settle.finalize(e!, "failed", m.usage, { code: m.code, message: m.message }, [], replicaId);
        }
      });
    } catch (err) {
      // A file that could not be written (disk full), SQLITE_BUSY / FULL / IOERR: nothing of this batch is committed.
      // Undo the in-memory side and put its messages back in front, to be tried again (files written again, over
      // themselves), rather than let the throw escape the timer or strand the runs. No row points at the files
      // written for it: they go (a run given up would otherwise leave them on disk for good).
      restore();
      for (const s of settles) artifacts.discard(s.written);
      this.texts = texts.concat(this.texts);
      // A given-up run's failure stays where it is kept (Failing.end), not among the workers' messages.
      // A run's end said twice (its timeout raced its worker) is kept once: the first.
      const kept = ends.filter((m) => !this.failing.get(m.executionId)?.end);
      this.ends = kept.concat(this.ends.filter((m) => !kept.some((k) => k.executionId === m.executionId)));
      this.failed(b, err);
      return;
    }
    for (const id of runsOf(b)) this.failing.delete(id);
    // What follows a commit (a cancel's charge) failing must not cost the batches still to save in this flush.
    await this.d.settled(settles).catch((err: unknown) => this.d.log.error(`settling ${settles.length} run(s) after their commit failed: ${describeError(err)}`));
  }

  /** A batch of several runs: each is tried on its own next. A run on its own: tried again after a longer pause. */
  private failed(b: Batch, err: unknown): void {
    const runs = runsOf(b);
    const now = Date.now();
    let then: string;
    if (runs.length > 1) {
      for (const id of runs) if (!this.failing.has(id)) this.failing.set(id, { since: now, failures: 0, next: now + RETRY_MS, end: null });
      then = "retrying each run on its own";
    } else {
      const id = runs[0]!;
      const f = this.failing.get(id) ?? { since: now, failures: 0, next: now, end: null };
      f.failures++;
      const pause = Math.min(MAX_RETRY_MS, RETRY_MS * 2 ** (f.failures - 1));
      f.next = now + pause;
      this.failing.set(id, f);
      then = `retrying run ${encodeId("execution", id)} in ${pause} ms`;
      if (!f.end && now - f.since >= this.d.giveUpMs) {
        this.giveUp(id, f);
        then = `giving it up`;
      }
    }
    this.d.log.error(`saving ${b.texts.length} output block(s) and ${b.ends.length} finished run(s) failed, ${then}: ${describeError(err)}`);
  }

  /** A timer for the next save of what waits: the earliest pause to end (a batch that failed: RETRY_MS). */
  private scheduleRetry(): void {
    const now = Date.now();
    let next = Infinity;
    for (const { executionId } of [...this.texts, ...this.ends]) next = Math.min(next, this.failing.get(executionId)?.next ?? now + RETRY_MS);
    for (const f of this.failing.values()) if (f.end) next = Math.min(next, f.next);
    if (next === Infinity) return;
    this.retry = setTimeout(() => this.scheduledFlush(), Math.max(0, next - now));
    this.retry.unref?.();
  }
}

function runsOf(b: Batch): number[] {
  return [...new Set([...b.texts.map((t) => t.executionId), ...b.ends.map((m) => m.executionId)])];
}
