// A GitHub issue a workflow run opens carries a mark (an HTML comment, which GitHub does not show) that the issues
// trigger recognises: such an issue starts no workflow. Without it, a workflow triggered by `issues` that opens an
// issue in the same repository triggers itself until the credits run out, and without a skill step for ever (an
// action costs nothing). GitHub's own Actions have the same rule for what their GITHUB_TOKEN does. The mark is
// keyed with the master key, so a person cannot hide an issue from triage by pasting a made-up one.
import { safeEqual } from "../../lib/crypto";

export interface LoopMarks {
  /** The text to append to what the run `runId` (`run_…`) creates. */
  mark(runId: string): string;
  /** The run whose genuine mark `text` carries, or null. */
  madeBy(text: string | null): string | null;
}

const MARK = /<!-- clanker: opened by workflow run (run_[A-Za-z0-9]{1,40}) \(([0-9a-f]{16})\) -->/g;

export function createLoopMarks(box: { mac(value: string): string }): LoopMarks {
  const tag = (runId: string) => box.mac(`workflow-run-mark:${runId}`).slice(0, 16);
  return {
    mark: (runId) => `\n\n<!-- clanker: opened by workflow run ${runId} (${tag(runId)}) -->`,
    madeBy(text) {
      if (!text) return null;
      for (const [, runId, given] of text.matchAll(MARK)) if (safeEqual(given!, tag(runId!))) return runId!;
      return null;
    },
  };
}
