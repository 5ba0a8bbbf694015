// The CLI's two kinds of failure: a usage error (the person fixes the command line or config: exit 2) and the rest.

/** Bad command, flag or value: one line on stderr, exit 2. `hint` names the help to read, when there is one. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export function usageError(message: string, hint?: string): never {
  throw new UsageError(message, hint);
}

/** A runtime failure that is not a bug: one line on stderr, exit `code` (1 unless said otherwise). */
export class Failure extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}

/** What a person can do about the file system's refusal (a data dir that is a file, a folder they may not write…), or null. */
const PATH_PROBLEMS: Record<string, string> = {
  EACCES: "permission denied: run as a user who may read and write it, or choose another path",
  EPERM: "permission denied: run as a user who may read and write it, or choose another path",
  EEXIST: "a file is in the way where a folder belongs: choose another path",
  ENOTDIR: "a part of the path is a file, not a folder: choose another path",
  ENOENT: "a folder on the way does not exist and cannot be made there: choose another path",
  EROFS: "the file system is read-only: choose a writable path",
  ENAMETOOLONG: "a name in the path is longer than the file system allows (255 bytes): choose a shorter one",
};

export function pathProblem(e: unknown): string | null {
  const { code, path, syscall } = (e ?? {}) as { code?: string; path?: string; syscall?: string };
  const what = code ? PATH_PROBLEMS[code] : undefined;
  if (!what || typeof path !== "string") return null;
  return `cannot ${syscall ?? "use"} ${path}: ${what}`;
}
