// The one place where env vars and flags become a typed, validated Config.
import { join, resolve } from "node:path";
import type { LogFormat, LogLevel } from "./lib/log";
import { stdoutIsTerminal } from "./lib/terminal";
import { decodeMasterKey } from "./lib/master-key-text";
import { defaultReplicaRuns, defaultWorkers } from "./executor/sizing";
import { allowedHosts, anthropicBase, bool, ConfigError, cron, dsn, int, isLoopback, mailbox, modelName, num, oauthApp, onOff, openaiBase, redisPrefix, slackConfig, smtpUrl, trustedProxies, url } from "./config-values";

// Rate limits go up to a billion a minute: a load test on a fast machine passes a million a minute in seconds, and its
// figures would then measure 429s.
const MAX_RATE_PER_MINUTE = 1_000_000_000;

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** DATABASE_URL: PostgreSQL instead of the embedded SQLite file; null: SQLite in dataDir. */
  databaseUrl: string | null;
  /** REDIS_URL: rate windows, idempotency in-flight slots, fan-out and cron locks shared by replicas; null: in this process. */
  redisUrl: string | null;
  /** CLANKER_REDIS_PREFIX: namespace of every Redis key and channel; the replicas of one deployment share it. */
  redisPrefix: string;
  /** Absolute URL this server is reached at, when it differs from the request's origin. */
  publicUrl: string | null;
  rateLimitPerMinute: number;
  publicRateLimitPerMinute: number;
  maxBodyBytes: number;
  idempotencyTtlSeconds: number;
  /** Idempotent mutations share one transaction per event-loop turn (CLANKER_GROUP_COMMIT, default on). */
  groupCommit: boolean;
  /** Extra skill folders (CLANKER_SKILLS_DIR), read at start-up beside the bundled catalog. */
  skillsDir: string | null;
  /** Host names answered (Host, Origin; against DNS rebinding): enforced on loopback (localhost always allowed) or when CLANKER_ALLOWED_HOSTS is set. */
  allowedHosts: string[] | null;
  /** CLANKER_TRUSTED_PROXIES as CIDR ranges: a peer in one is a proxy whose X-Forwarded-For names the client; empty: none. */
  trustedProxies: string[];
  logLevel: LogLevel;
  /** CLANKER_LOG_FORMAT: JSON lines, or pretty text (the default on a terminal). */
  logFormat: LogFormat;
  /** CLANKER_METRICS_TOKEN: the bearer token GET /metrics wants, wherever bound; unset, only a loopback-bound server serves it. */
  metricsToken: string | null;
  /** How long SIGTERM/SIGINT waits for running executions before it puts them back to queued. */
  shutdownGraceSeconds: number;
  /** CLANKER_CRON_MIN_INTERVAL_SECONDS: the least time between two firings of a workflow's cron trigger, checked at save. */
  cronMinIntervalSeconds: number;
  /** CLANKER_LEASE_SECONDS: how long a replica's claim on a run or a delivery (PostgreSQL mode), or on an idempotency-key in flight (Redis), holds without renewal; on SQLite, how often (a third of it) the server looks for runs of a `clanker mcp` that stopped. */
  leaseSeconds: number;
  models: ModelConfig;
  executor: ExecutorConfig;
  billing: BillingConfig;
  webhooks: WebhookConfig;
  signin: SigninConfig;
  backups: BackupConfig;
  slack: SlackConfig;
  connectors: ConnectorsConfig;
}

export interface SlackConfig {
  /** Slack Web API base (CLANKER_SLACK_API_URL), the operator's: tests point it at a fake. */
  apiUrl: string;
  /** Where the OAuth v2 authorize page lives (CLANKER_SLACK_OAUTH_URL). */
  oauthUrl: string;
  /** OAuth v2 app credentials; both or neither. Without them Slack connects by bot token only. */
  clientId: string | null;
  clientSecret: string | null;
}

export interface ConnectorsConfig {
  /** CLANKER_LOCAL_SOURCES: folders and git repositories on this server that the `local` connector serves. */
  localSources: string[];
  /** Largest file get-source-content answers (CLANKER_MAX_SOURCE_BYTES). */
  maxSourceBytes: number;
  /** How much source text a run that reads code gives the model (CLANKER_RUN_SOURCE_BUDGET_BYTES). */
  runBudgetBytes: number;
  githubApiUrl: string;
  githubOAuthUrl: string;
  /** Both set: connect-connector {"connector":"github"} without a token starts the OAuth web flow. */
  githubClientId: string | null;
  githubClientSecret: string | null;
  /** Largest clone or refresh of a `remote` source, bytes received (CLANKER_REMOTE_MAX_BYTES). */
  remoteMaxBytes: number;
  /** Longest clone or refresh of a `remote` source (CLANKER_REMOTE_TIMEOUT_MS). */
  remoteTimeoutMs: number;
  /** How long a `remote` clone is read before the next read fetches again (CLANKER_REMOTE_TTL_SECONDS). */
  remoteTtlSeconds: number;
}

export interface BackupConfig {
  /** Croner pattern for scheduled backups (CLANKER_BACKUP_CRON); null: none. */
  cron: string | null;
  /** Scheduled backups kept; older ones are removed after each new one. */
  keep: number;
  /** Where scheduled backups go (default data/backups; another disk is better). */
  dir: string;
}

export interface SigninConfig {
  /** smtp(s)://user:pass@host:port; without it, mail is logged and written to data/outbox/. */
  smtpUrl: string | null;
  mailFrom: string;
  /** Whether POST /agent/auth {"type":"anonymous"} hands out keys (default: only when bound to loopback). */
  anonymousAgents: boolean;
  /** Smaller grant and rate limit for unclaimed (anonymous) agents. */
  anonymousCreditGrant: number;
  anonymousRateLimitPerMinute: number;
  devicePollIntervalSeconds: number;
}

export interface ModelConfig {
  anthropicApiKey: string | null;
  anthropicBaseUrl: string | null;
  anthropicModel: string;
  openaiBaseUrl: string | null;
  openaiApiKey: string | null;
  openaiModel: string;
  maxOutputTokens: number;
}

export interface ExecutorConfig {
  workers: number;
  /** Runs at once per workspace; more wait queued. */
  workspaceConcurrency: number;
  /** With DATABASE_URL: runs this replica holds at once, claimed from the queue the replicas share. */
  replicaRuns: number;
  timeoutMs: number;
  maxAttachmentBytes: number;
}

export interface BillingConfig {
  /** Credits granted to each new workspace. */
  grantCredits: number;
  /** Credits per million input / output tokens. */
  inputPerMTok: number;
  outputPerMTok: number;
}

export interface WebhookConfig {
  /** Whether callbacks may target loopback and private addresses (default: when bound to loopback). */
  allowPrivate: boolean;
  retryBaseMs: number;
  maxAttempts: number;
}


const DEFAULTS = {
  host: "127.0.0.1",
  port: 4377,
  dataDir: "./data",
  rateLimitPerMinute: 100,
  publicRateLimitPerMinute: 300,
  maxBodyBytes: 10 * 1024 * 1024,
  idempotencyTtlSeconds: 24 * 60 * 60,
};

export { defaultReplicaRuns, defaultWorkers };

const LOG_LEVELS: LogLevel[] = ["debug", "info", "warn", "error", "silent"];

export interface ConfigFlags {
  port?: string;
  host?: string;
  data?: string;
}

export function loadConfig(flags: ConfigFlags = {}, env: Record<string, string | undefined> = process.env): Config {
  const host = flags.host ?? (env.HOST || DEFAULTS.host);
  if (!/^[A-Za-z0-9.:\-\[\]]+$/.test(host)) throw new ConfigError(`${flags.host !== undefined ? "--host" : "HOST"} must be a hostname or IP address, got '${host}'`);
  const publicUrl = env.CLANKER_PUBLIC_URL || null;
  if (publicUrl !== null) {
    let u: URL;
    try {
      u = new URL(publicUrl);
      if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
    } catch {
      throw new ConfigError(`CLANKER_PUBLIC_URL must be an http(s) URL, got '${publicUrl}'`);
    }
    // Every link is this plus a path: a query or fragment would end up in the middle of them (the OAuth issuer and
    // endpoints, mail links), and a user:password would be published with them.
    if (u.search || u.hash || publicUrl.includes("#") || u.username || u.password)
      throw new ConfigError(`CLANKER_PUBLIC_URL must be the server's address only (scheme, host, port, path), with no user, password, query or fragment, got '${publicUrl}'`);
  }
  const logLevel = env.CLANKER_LOG || "info";
  if (env.CLANKER_SMTP_URL) smtpUrl(env.CLANKER_SMTP_URL);
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) throw new ConfigError(`CLANKER_LOG must be one of ${LOG_LEVELS.join(", ")}, got '${logLevel}'`);
  const logFormat = env.CLANKER_LOG_FORMAT || (stdoutIsTerminal() ? "pretty" : "json");
  if (logFormat !== "json" && logFormat !== "pretty") throw new ConfigError(`CLANKER_LOG_FORMAT must be json or pretty, got '${logFormat}'`);
  // Checked here, before the data dir is made or the database opened: a typo must not leave a fresh store behind.
  if (env.CLANKER_MASTER_KEY) {
    try {
      decodeMasterKey(env.CLANKER_MASTER_KEY, "CLANKER_MASTER_KEY");
    } catch (e) {
      throw new ConfigError((e as Error).message);
    }
  }
  const metricsToken = env.CLANKER_METRICS_TOKEN || null;
  if (metricsToken !== null && !/^[\x21-\x7e]{16,}$/.test(metricsToken)) throw new ConfigError(`CLANKER_METRICS_TOKEN must be at least 16 visible ASCII characters (no spaces), as a scraper sends it in a header`);
  // An empty flag is a mistake; an empty variable is unset, as for every other one. Never "": resolve("") is the
  // current folder, which would take the store's files and be made private.
  if (flags.data === "") throw new ConfigError(`--data needs a folder, got ''`);
  if (flags.port === "") throw new ConfigError(`--port needs a number, got ''`);
  const dataDir = resolve(flags.data ?? (env.CLANKER_DATA_DIR || DEFAULTS.dataDir));
  // SQLite opens no file whose path passes 512 bytes: a longer data dir failed at start with "unable to open database
  // file" (and a stack), having made its folders.
  if (Buffer.byteLength(join(dataDir, "clanker.db-journal")) > 511)
    throw new ConfigError(`${flags.data !== undefined ? "--data" : "CLANKER_DATA_DIR"} is ${Buffer.byteLength(dataDir)} bytes long once resolved; SQLite opens files under a path of at most about 490: choose a shorter one`);
  const githubApp = oauthApp(env, "GITHUB");
  const workers = int("CLANKER_WORKERS", env.CLANKER_WORKERS, defaultWorkers(), 1, 64);
  return {
    host,
    port: int(flags.port !== undefined ? "--port" : "PORT", flags.port ?? env.PORT, DEFAULTS.port, 0, 65535),
    dataDir,
    databaseUrl: dsn("DATABASE_URL", env.DATABASE_URL, ["postgres", "postgresql"]),
    redisUrl: dsn("REDIS_URL", env.REDIS_URL, ["redis", "rediss"]),
    redisPrefix: redisPrefix(env.CLANKER_REDIS_PREFIX),
    publicUrl: publicUrl?.replace(/\/+$/, "") ?? null,
    rateLimitPerMinute: int("CLANKER_RATE_LIMIT_PER_MINUTE", env.CLANKER_RATE_LIMIT_PER_MINUTE, DEFAULTS.rateLimitPerMinute, 1, MAX_RATE_PER_MINUTE),
    publicRateLimitPerMinute: int("CLANKER_PUBLIC_RATE_LIMIT_PER_MINUTE", env.CLANKER_PUBLIC_RATE_LIMIT_PER_MINUTE, DEFAULTS.publicRateLimitPerMinute, 1, MAX_RATE_PER_MINUTE),
    maxBodyBytes: int("CLANKER_MAX_BODY_BYTES", env.CLANKER_MAX_BODY_BYTES, DEFAULTS.maxBodyBytes, 1024, 1024 * 1024 * 1024),
    idempotencyTtlSeconds: int("CLANKER_IDEMPOTENCY_TTL_SECONDS", env.CLANKER_IDEMPOTENCY_TTL_SECONDS, DEFAULTS.idempotencyTtlSeconds, 1, 30 * 24 * 3600),
    groupCommit: bool("CLANKER_GROUP_COMMIT", env.CLANKER_GROUP_COMMIT, true),
    skillsDir: env.CLANKER_SKILLS_DIR ? resolve(env.CLANKER_SKILLS_DIR) : null,
    allowedHosts: allowedHosts(host, publicUrl, env.CLANKER_ALLOWED_HOSTS),
    trustedProxies: trustedProxies(env.CLANKER_TRUSTED_PROXIES),
    logLevel: logLevel as LogLevel,
    logFormat,
    metricsToken,
    shutdownGraceSeconds: int("CLANKER_SHUTDOWN_GRACE_SECONDS", env.CLANKER_SHUTDOWN_GRACE_SECONDS, 30, 0, 24 * 3600),
    cronMinIntervalSeconds: int("CLANKER_CRON_MIN_INTERVAL_SECONDS", env.CLANKER_CRON_MIN_INTERVAL_SECONDS, 60, 1, 24 * 3600),
    leaseSeconds: int("CLANKER_LEASE_SECONDS", env.CLANKER_LEASE_SECONDS, 30, 1, 3600),
    models: {
      anthropicApiKey: env.ANTHROPIC_API_KEY?.trim() || null,
      anthropicBaseUrl: anthropicBase(url("ANTHROPIC_BASE_URL", env.ANTHROPIC_BASE_URL)),
      anthropicModel: modelName("CLANKER_ANTHROPIC_MODEL", env.CLANKER_ANTHROPIC_MODEL, "claude-sonnet-4-5"),
      openaiBaseUrl: openaiBase(url("OPENAI_BASE_URL", env.OPENAI_BASE_URL)),
      openaiApiKey: env.OPENAI_API_KEY?.trim() || null,
      openaiModel: modelName("CLANKER_OPENAI_MODEL", env.CLANKER_OPENAI_MODEL, "llama3.1"),
      maxOutputTokens: int("CLANKER_MAX_OUTPUT_TOKENS", env.CLANKER_MAX_OUTPUT_TOKENS, 4096, 1, 200_000),
    },
    executor: {
      workers,
      workspaceConcurrency: int("CLANKER_WORKSPACE_CONCURRENCY", env.CLANKER_WORKSPACE_CONCURRENCY, 4, 1, 1000),
      replicaRuns: int("CLANKER_REPLICA_RUNS", env.CLANKER_REPLICA_RUNS, defaultReplicaRuns(workers), 1, 100_000),
      timeoutMs: int("CLANKER_RUN_TIMEOUT_SECONDS", env.CLANKER_RUN_TIMEOUT_SECONDS, 300, 1, 24 * 3600) * 1000,
      maxAttachmentBytes: int("CLANKER_MAX_ATTACHMENT_BYTES", env.CLANKER_MAX_ATTACHMENT_BYTES, 2 * 1024 * 1024, 1, 1024 * 1024 * 1024),
    },
    billing: {
      grantCredits: num("CLANKER_CREDIT_GRANT", env.CLANKER_CREDIT_GRANT, 100),
      inputPerMTok: num("CLANKER_PRICE_INPUT_PER_MTOK", env.CLANKER_PRICE_INPUT_PER_MTOK, 300),
      outputPerMTok: num("CLANKER_PRICE_OUTPUT_PER_MTOK", env.CLANKER_PRICE_OUTPUT_PER_MTOK, 1500),
    },
    signin: {
      smtpUrl: env.CLANKER_SMTP_URL || null,
      mailFrom: mailbox("CLANKER_MAIL_FROM", env.CLANKER_MAIL_FROM),
      // Anyone who reaches the port could mint keys spending the server's model credits: off once exposed.
      anonymousAgents: onOff("CLANKER_ANONYMOUS_AGENTS", env.CLANKER_ANONYMOUS_AGENTS, isLoopback(host)),
      anonymousCreditGrant: num("CLANKER_ANONYMOUS_CREDIT_GRANT", env.CLANKER_ANONYMOUS_CREDIT_GRANT, 5),
      anonymousRateLimitPerMinute: int("CLANKER_ANONYMOUS_RATE_LIMIT_PER_MINUTE", env.CLANKER_ANONYMOUS_RATE_LIMIT_PER_MINUTE, 20, 1, 1_000_000),
      devicePollIntervalSeconds: int("CLANKER_DEVICE_POLL_INTERVAL_SECONDS", env.CLANKER_DEVICE_POLL_INTERVAL_SECONDS, 5, 0, 60),
    },
    webhooks: {
      allowPrivate: bool("CLANKER_WEBHOOK_ALLOW_PRIVATE", env.CLANKER_WEBHOOK_ALLOW_PRIVATE, isLoopback(host)),
      retryBaseMs: int("CLANKER_WEBHOOK_RETRY_BASE_MS", env.CLANKER_WEBHOOK_RETRY_BASE_MS, 10_000, 10, 3_600_000),
      maxAttempts: int("CLANKER_WEBHOOK_MAX_ATTEMPTS", env.CLANKER_WEBHOOK_MAX_ATTEMPTS, 8, 1, 50),
    },
    slack: slackConfig(env),
    connectors: {
      localSources: (env.CLANKER_LOCAL_SOURCES ?? "").split(",").map((p) => p.trim()).filter(Boolean).map((p) => resolve(p)),
      maxSourceBytes: int("CLANKER_MAX_SOURCE_BYTES", env.CLANKER_MAX_SOURCE_BYTES, 1024 * 1024, 1, 1024 * 1024 * 1024),
      runBudgetBytes: int("CLANKER_RUN_SOURCE_BUDGET_BYTES", env.CLANKER_RUN_SOURCE_BUDGET_BYTES, 200 * 1024, 1, 64 * 1024 * 1024),
      githubApiUrl: url("CLANKER_GITHUB_API_URL", env.CLANKER_GITHUB_API_URL) ?? "https://api.github.com",
      githubOAuthUrl: url("CLANKER_GITHUB_OAUTH_URL", env.CLANKER_GITHUB_OAUTH_URL) ?? "https://github.com",
      githubClientId: githubApp.clientId,
      githubClientSecret: githubApp.clientSecret,
      remoteMaxBytes: int("CLANKER_REMOTE_MAX_BYTES", env.CLANKER_REMOTE_MAX_BYTES, 100 * 1024 * 1024, 1024, 10 * 1024 * 1024 * 1024),
      remoteTimeoutMs: int("CLANKER_REMOTE_TIMEOUT_MS", env.CLANKER_REMOTE_TIMEOUT_MS, 60_000, 100, 3_600_000),
      remoteTtlSeconds: int("CLANKER_REMOTE_TTL_SECONDS", env.CLANKER_REMOTE_TTL_SECONDS, 300, 0, 7 * 24 * 3600),
    },
    backups: {
      cron: cron("CLANKER_BACKUP_CRON", env.CLANKER_BACKUP_CRON),
      keep: int("CLANKER_BACKUP_KEEP", env.CLANKER_BACKUP_KEEP, 7, 1, 10_000),
      dir: env.CLANKER_BACKUP_DIR ? resolve(env.CLANKER_BACKUP_DIR) : join(dataDir, "backups"),
    },
  };
}
