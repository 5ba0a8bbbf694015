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
