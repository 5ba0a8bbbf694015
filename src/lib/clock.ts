// Time in one place: ISO strings for the API, epoch ms in the store.

export const nowMs = (): number => Date.now();

export const toIso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();
