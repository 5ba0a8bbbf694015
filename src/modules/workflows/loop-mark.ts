// A GitHub issue a workflow opens carries a mark (an HTML comment, which GitHub does not show) that the issues trigger
// recognises: such an issue starts no workflow. Without it, a workflow triggered by `issues` that opens an issue in the
// same repository triggers itself until the credits run out, and without a skill step for ever (an action costs
// nothing). GitHub's own Actions have the same rule for what their GITHUB_TOKEN does. The mark is keyed with the
// master key and bound to the repository and title: a person can neither make one up nor copy a real one onto
// another issue to hide it from triage (copied with its title too, it hides a copy of a workflow's own issue). It
// names nothing: no run id, no count of runs.
import { safeEqual } from "../../lib/crypto";

export interface LoopMarks {
  /** The text to append to the body of an issue a workflow opens in `repo` ("owner/name") with `title`. */
  mark(repo: string, title: string): string;
  /** Whether `body` carries the genuine mark of an issue opened in `repo` with `title`. */
  madeByWorkflow(repo: string, title: string, body: string | null): boolean;
}

const MARK = /<!-- clanker: opened by a workflow \(([0-9a-f]{32})\) -->/g;

export function createLoopMarks(box: { mac(value: string): string }): LoopMarks {
  const tag = (repo: string, title: string) => box.mac(`workflow-issue:${repo.toLowerCase()}\n${title.trim()}`).slice(0, 32);
  return {
    mark: (repo, title) => `\n\n<!-- clanker: opened by a workflow (${tag(repo, title)}) -->`,
    madeByWorkflow(repo, title, body) {
      if (!body) return false;
      const want = tag(repo, title);
      for (const [, given] of body.matchAll(MARK)) if (safeEqual(given!, want)) return true;
      return false;
    },
  };
}
