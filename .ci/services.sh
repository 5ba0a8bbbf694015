# Throwaway PostgreSQL and Redis for the test suite's second run (issue 15), on 127.0.0.1 and free ports, in a temp dir.
# Source it (bash):   source .ci/services.sh && trap stop_services EXIT
# It exports CLANKER_TEST_DATABASE_URL (the admin URL: test/helpers/server.ts makes one database per server from it)
# and CLANKER_TEST_REDIS_URL, and defines stop_services. On failure it prints one line and returns 1.
# PostgreSQL refuses to run as root, so as root (CI) initdb and pg_ctl run as the postgres user.

_ck_services_fail() {
  echo "services.sh: $*" >&2
  [ -n "${CLANKER_SERVICES_DIR:-}" ] && [ -f "$CLANKER_SERVICES_DIR/pg.log" ] && tail -n 5 "$CLANKER_SERVICES_DIR/pg.log" >&2
  return 1
}

# The first free TCP port on 127.0.0.1 from a random start (bash's /dev/tcp: a refused connect means free).
_ck_free_port() {
  local p=$((20000 + RANDOM % 30000)) i
  for ((i = 0; i < 200; i++, p++)); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# Runs a command as the postgres user when we are root, else as ourselves.
_ck_as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

stop_services() {
  [ -n "${_CK_PG_BIN:-}" ] && [ -n "${CLANKER_SERVICES_DIR:-}" ] && _ck_as_pg "$_CK_PG_BIN/pg_ctl" -D "$CLANKER_SERVICES_DIR/pg" -m immediate -w stop >/dev/null 2>&1
  [ -n "${_CK_REDIS_PORT:-}" ] && redis-cli -h 127.0.0.1 -p "$_CK_REDIS_PORT" shutdown nosave >/dev/null 2>&1
  [ -n "${CLANKER_SERVICES_DIR:-}" ] && rm -rf "$CLANKER_SERVICES_DIR"
  unset CLANKER_SERVICES_DIR _CK_PG_BIN _CK_REDIS_PORT CLANKER_TEST_DATABASE_URL CLANKER_TEST_REDIS_URL
  return 0
}

start_services() {
  # Debian's server binaries live in /usr/lib/postgresql/<version>/bin, not on PATH.
  _CK_PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -z "$_CK_PG_BIN" ] || ! command -v redis-server >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server) >/dev/null 2>&1 ||
      { _ck_services_fail "could not install postgresql and redis-server with apt-get"; return 1; }
    _CK_PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$_CK_PG_BIN" ] || { _ck_services_fail "no /usr/lib/postgresql/*/bin after installing postgresql"; return 1; }
  fi

  CLANKER_SERVICES_DIR=$(mktemp -d /tmp/clanker-services.XXXXXX) || { _ck_services_fail "mktemp failed"; return 1; }
  export CLANKER_SERVICES_DIR
  chmod 755 "$CLANKER_SERVICES_DIR"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$CLANKER_SERVICES_DIR"

  local pg_port redis_port
  pg_port=$(_ck_free_port) || { _ck_services_fail "no free port for PostgreSQL"; return 1; }
  # Trust on loopback only: a throwaway cluster for the tests, listening nowhere else. Locale C: text sorts by
  # byte, as SQLite does, so an ordering test means the same on both.
  _ck_as_pg "$_CK_PG_BIN/initdb" -D "$CLANKER_SERVICES_DIR/pg" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$CLANKER_SERVICES_DIR/initdb.log" 2>&1 ||
    { _ck_services_fail "initdb failed: $(tail -n 1 "$CLANKER_SERVICES_DIR/initdb.log")"; return 1; }
  # Durability off (a test cluster); connections for many servers at once (each pools ~10).
  _ck_as_pg "$_CK_PG_BIN/pg_ctl" -D "$CLANKER_SERVICES_DIR/pg" -l "$CLANKER_SERVICES_DIR/pg.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories=$CLANKER_SERVICES_DIR -c max_connections=500 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null 2>&1 || { _ck_services_fail "PostgreSQL did not start on 127.0.0.1:$pg_port"; return 1; }

  redis_port=$(_ck_free_port) || { _ck_services_fail "no free port for Redis"; return 1; }
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --dir "$CLANKER_SERVICES_DIR" --logfile "$CLANKER_SERVICES_DIR/redis.log" >/dev/null 2>&1 ||
    { _ck_services_fail "redis-server did not start on 127.0.0.1:$redis_port"; return 1; }
  _CK_REDIS_PORT=$redis_port
  local i
  for ((i = 0; i < 50; i++)); do
    redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  [ "$i" -lt 50 ] || { _ck_services_fail "Redis on 127.0.0.1:$redis_port does not answer"; return 1; }

  export CLANKER_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
  export CLANKER_TEST_REDIS_URL="redis://127.0.0.1:$redis_port"
  echo "services: PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port ($CLANKER_SERVICES_DIR)"
}

start_services
