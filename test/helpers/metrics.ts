// GET /metrics as a scraper reads it.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text exposition format, as a scraper reads it (comments skipped). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim() || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) throw new Error(`not a metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

export const sample = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

/** One sample of the server's /metrics now (a server on loopback: no token needed). */
export async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const r = await fetch(`${url}/metrics`);
  if (r.status !== 200) throw new Error(`GET /metrics answered ${r.status}`);
  return sample(parseMetrics(await r.text()), name, labels);
}

/** A replica's store counter since it started: transactions run again, or of those, deadlocks. */
export async function storeCount(srv: { url: string }, what: "retries" | "deadlocks"): Promise<number> {
  const n = await metric(srv.url, `clanker_store_${what}_total`);
  if (n === undefined) throw new Error(`no clanker_store_${what}_total in ${srv.url}/metrics`);
  return n;
}
