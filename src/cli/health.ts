// `clanker health`: GET /healthz on the configured host and port (the image's HEALTHCHECK; it has no curl).
import type { Config } from "../config";
import { urlHost } from "../lib/url-host";

/** The address to reach a server bound to `host`: a wildcard bind is reached over loopback. */
export function healthUrl(config: Config): string {
  const host = config.host === "0.0.0.0" ? "127.0.0.1" : config.host === "::" || config.host === "[::]" ? "[::1]" : config.host;
  return `http://${urlHost(host)}:${config.port}/healthz`;
}

/** Exit 0 on a 200 within the timeout, 1 otherwise; one line either way. */
export async function runHealthCommand(config: Config, timeoutMs = 5000): Promise<number> {
  const url = healthUrl(config);
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    await res.body?.cancel();
    if (res.status === 200) {
      console.log(`healthy: ${url} answered 200`);
      return 0;
    }
    console.error(`unhealthy: ${url} answered ${res.status}`);
  } catch (e) {
    const err = e as Error & { code?: string };
    console.error(`unhealthy: ${url} did not answer (${err.name === "TimeoutError" ? `no answer in ${timeoutMs} ms` : (err.code ?? err.message)}): is the server running (clanker serve)? If it listens elsewhere, pass --port and --host`);
  }
  return 1;
}
