#!/usr/bin/env bash
# Private MariaDB + single-node Kafka (KRaft) for hrviz's tests, run as plain processes (no systemd,
# no Docker). State lives in <repo>/.services (gitignored).
#
#   bash scripts/services.sh up     [mariadb|kafka]   start (no-op if already running), wait until usable
#   bash scripts/services.sh down   [mariadb|kafka]   stop by pid: TERM, wait, KILL after a timeout
#   bash scripts/services.sh kill   [mariadb|kafka]   SIGKILL right away (simulates a crash)
#   bash scripts/services.sh restart [mariadb|kafka]
#   bash scripts/services.sh status [mariadb|kafka]   what runs (exit 0 only if all asked-for run)
#   bash scripts/services.sh env                      print the env exports
#   bash scripts/services.sh clean                    down + delete the data (keeps the Kafka jars)
#   aliases: start-kafka stop-kafka start-mariadb stop-mariadb
#
# Restarts reuse the data: MariaDB's datadir and Kafka's formatted log dir (formatted only once).
# Env: HRVIZ_MYSQL_PORT (3306), HRVIZ_KAFKA_PORT (9092), HRVIZ_KAFKA_CONTROLLER_PORT (9093),
#      HRVIZ_SERVICES_TIMEOUT (90 s to become ready), HRVIZ_STOP_TIMEOUT (30 s before SIGKILL),
#      HRVIZ_KAFKA_HEAP (-Xms256m -Xmx512m).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SVC=$ROOT/.services
MYSQL_PORT=${HRVIZ_MYSQL_PORT:-3306}
KAFKA_PORT=${HRVIZ_KAFKA_PORT:-9092}
KAFKA_CPORT=${HRVIZ_KAFKA_CONTROLLER_PORT:-9093}
TIMEOUT=${HRVIZ_SERVICES_TIMEOUT:-90}
STOP_TIMEOUT=${HRVIZ_STOP_TIMEOUT:-30}
KAFKA_HEAP=${HRVIZ_KAFKA_HEAP:--Xms256m -Xmx512m}
DB_USER=hrviz
DB_PASSWORD=hrviz-pw

MDB=$SVC/mariadb
MDB_DATA=$MDB/data
MDB_PID=$MDB/mariadbd.pid
MDB_LOG=$MDB/error.log
MDB_SOCK=$MDB/mysqld.sock
# unix socket paths are limited to 107 bytes: fall back to /tmp for deep checkouts
if [ ${#MDB_SOCK} -gt 100 ]; then MDB_SOCK=/tmp/hrviz-mysqld-$(echo "$ROOT" | sha256sum | cut -c1-12).sock; fi

KDIR=$SVC/kafka
KLIB=$KDIR/lib
KDATA=$KDIR/data
KCONF=$KDIR/conf
KPID=$KDIR/kafka.pid
KLOG=$KDIR/broker.log

log() { printf '[services] %s\n' "$*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# pid from a pid file if that process is alive and its command line contains $2; else empty
live_pid() {
  local file=$1 want=$2 pid
  [ -f "$file" ] || return 0
  pid=$(tr -dc '0-9' <"$file")
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$want"; then
    echo "$pid"
  fi
}

# start "$@" detached (own session, stdin from /dev/null, output to $2, without the lock fd 9);
# the final pid goes to $1
spawn() {
  local pidfile=$1 logfile=$2; shift 2
  rm -f "$pidfile"
  setsid sh -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$logfile" 2>&1 9>&- &
  local i
  for i in $(seq 1 50); do [ -s "$pidfile" ] && return 0; sleep 0.02; done
  log "could not start $1"; return 1
}

stop_pid() {  # stop_pid NAME PID SIGNAL
  local name=$1 pid=$2 sig=${3:-TERM} t0 i
  t0=$(now)
  kill "-$sig" "$pid" 2>/dev/null || return 0
  for i in $(seq 1 $((STOP_TIMEOUT * 10))); do
    kill -0 "$pid" 2>/dev/null || { log "$name (pid $pid) stopped in $(elapsed "$t0") s"; return 0; }
    sleep 0.1
  done
  log "$name (pid $pid) still running after ${STOP_TIMEOUT} s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

fail_with_log() {  # fail_with_log MESSAGE LOGFILE
  log "$1"
  if [ -f "$2" ]; then log "--- last lines of $2 ---"; tail -n 60 "$2" >&2; fi
  return 1
}

# ---------------------------------------------------------------- MariaDB
mdb_root() { mariadb --no-defaults --socket="$MDB_SOCK" -uroot "$@"; }

mariadb_up() {
  local t0 pid i
  t0=$(now)
  pid=$(live_pid "$MDB_PID" mariadbd)
  if [ -n "$pid" ] && mariadb-admin --no-defaults --socket="$MDB_SOCK" -uroot --connect-timeout=2 ping \
      >/dev/null 2>&1; then
    log "mariadb already running (pid $pid, 127.0.0.1:$MYSQL_PORT)"; return 0
  fi
  if [ -n "$pid" ]; then  # alive but not answering: restart it
    log "mariadb pid $pid does not answer; restarting it"; stop_pid mariadb "$pid" TERM
  fi
  rm -f "$MDB_PID"
  command -v mariadbd >/dev/null || { log "mariadbd missing: run bash scripts/install-system-deps.sh"; return 1; }
  if port_busy "$MYSQL_PORT"; then
    log "127.0.0.1:$MYSQL_PORT is already taken by another process (set HRVIZ_MYSQL_PORT)"; return 1
  fi
  mkdir -p "$MDB"
  if [ ! -d "$MDB_DATA/mysql" ]; then
    rm -rf "$MDB_DATA"; mkdir -p "$MDB_DATA"
    chown -R mysql:mysql "$MDB"
    mariadb-install-db --no-defaults --user=mysql --datadir="$MDB_DATA" \
      --auth-root-authentication-method=socket --skip-test-db >"$MDB/install-db.log" 2>&1 \
      || fail_with_log "mariadb-install-db failed" "$MDB/install-db.log" || return 1
    log "mariadb datadir initialized in $(elapsed "$t0") s"
  fi
  chown -R mysql:mysql "$MDB"
  : >"$MDB_LOG"; chown mysql:mysql "$MDB_LOG"
  spawn "$MDB_PID" /dev/null mariadbd --no-defaults --user=mysql --datadir="$MDB_DATA" \
    --socket="$MDB_SOCK" --pid-file="$MDB/mariadbd.own.pid" \
    --bind-address=127.0.0.1 --port="$MYSQL_PORT" --skip-name-resolve --local-infile=1 \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2 \
    --max-connections=300 --log-error="$MDB_LOG"
  pid=$(cat "$MDB_PID")
  # root over TCP is refused (1130): wait on the unix socket as root
  for i in $(seq 1 $((TIMEOUT * 10))); do
    mariadb-admin --no-defaults --socket="$MDB_SOCK" -uroot --connect-timeout=1 ping >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { fail_with_log "mariadbd exited during start" "$MDB_LOG"; return 1; }
    sleep 0.1
  done
  mariadb-admin --no-defaults --socket="$MDB_SOCK" -uroot ping >/dev/null 2>&1 \
    || { fail_with_log "mariadb not ready after ${TIMEOUT} s" "$MDB_LOG"; return 1; }
  mdb_root <<SQL
CREATE DATABASE IF NOT EXISTS hrviz CHARACTER SET utf8mb4;
CREATE DATABASE IF NOT EXISTS hrviz_test CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON hrviz.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost';
GRANT ALL PRIVILEGES ON hrviz_test.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost';
GRANT ALL PRIVILEGES ON \`hrviz\_test\_%\`.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost';
SQL
  # the check the app does: TCP login as the app user
  mariadb-admin --no-defaults --protocol=tcp -h 127.0.0.1 -P "$MYSQL_PORT" -u"$DB_USER" -p"$DB_PASSWORD" \
    --connect-timeout=5 ping >/dev/null \
    || { fail_with_log "TCP login as $DB_USER failed" "$MDB_LOG"; return 1; }
  log "mariadb up: pid $pid, 127.0.0.1:$MYSQL_PORT, dbs hrviz + hrviz_test ($(elapsed "$t0") s)"
}

mariadb_down() {
  local sig=${1:-TERM} pid
  pid=$(live_pid "$MDB_PID" mariadbd)
  if [ -z "$pid" ]; then log "mariadb not running"; rm -f "$MDB_PID"; return 0; fi
  stop_pid mariadb "$pid" "$sig"
  rm -f "$MDB_PID"
}

mariadb_status() {
  local pid
  pid=$(live_pid "$MDB_PID" mariadbd)
  if [ -n "$pid" ] && mariadb-admin --no-defaults --socket="$MDB_SOCK" -uroot --connect-timeout=2 ping \
      >/dev/null 2>&1; then
    echo "mariadb: running, pid $pid, 127.0.0.1:$MYSQL_PORT, datadir $MDB_DATA"
  elif [ -n "$pid" ]; then
    echo "mariadb: pid $pid alive but not answering"; return 1
  else
    echo "mariadb: stopped"; return 1
  fi
}

# ---------------------------------------------------------------- Kafka
kafka_lib_ok() { compgen -G "$KLIB/.complete-*" >/dev/null && compgen -G "$KLIB/kafka_2.13-*.jar" >/dev/null; }

kafka_metadata_ok() {  # a real metadata request that must list our broker
  if command -v kcat >/dev/null; then
    kcat -b "127.0.0.1:$KAFKA_PORT" -L -m 3 -X socket.timeout.ms=2000 2>/dev/null \
      | grep -q "broker 1 at 127.0.0.1:$KAFKA_PORT"
  elif [ -x "$ROOT/.venv/bin/python" ]; then
    "$ROOT/.venv/bin/python" - "127.0.0.1:$KAFKA_PORT" <<'PY' >/dev/null 2>&1
import sys
from confluent_kafka.admin import AdminClient
md = AdminClient({"bootstrap.servers": sys.argv[1]}).list_topics(timeout=3)
sys.exit(0 if md.brokers else 1)
PY
  else
    return 1
  fi
}

kafka_up() {
  local t0 pid i
  t0=$(now)
  pid=$(live_pid "$KPID" kafka.Kafka)
  if [ -n "$pid" ] && kafka_metadata_ok; then
    log "kafka already running (pid $pid, 127.0.0.1:$KAFKA_PORT)"; return 0
  fi
  if [ -n "$pid" ]; then
    # alive but not (yet) answering: maybe still starting; give it the normal wait, else restart
    for i in $(seq 1 $((TIMEOUT * 2))); do kafka_metadata_ok && { log "kafka running (pid $pid)"; return 0; }
      kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    log "kafka pid $pid does not answer; restarting it"; stop_pid kafka "$pid" TERM
  fi
  rm -f "$KPID"
  kafka_lib_ok || bash "$ROOT/scripts/install-system-deps.sh"
  for p in "$KAFKA_PORT" "$KAFKA_CPORT"; do
    if port_busy "$p"; then log "127.0.0.1:$p is already taken (set HRVIZ_KAFKA_PORT/_CONTROLLER_PORT)"; return 1; fi
  done
  mkdir -p "$KDATA" "$KCONF"
  sed -e "s#@DATA_DIR@#$KDATA#g" -e "s#@PORT@#$KAFKA_PORT#g" -e "s#@CONTROLLER_PORT@#$KAFKA_CPORT#g" \
    "$ROOT/scripts/kafka/server.properties" >"$KCONF/server.properties"
  cp "$ROOT/scripts/kafka/log4j2.properties" "$KCONF/log4j2.properties"
  local logopts=(-Dlog4j2.configurationFile="$KCONF/log4j2.properties" -Dkafka.logs.dir="$KDIR")
  if compgen -G "$KLIB/reload4j-*.jar" >/dev/null; then  # Kafka 3.9.x fallback
    [ -f "$ROOT/scripts/kafka/log4j.properties" ] && cp "$ROOT/scripts/kafka/log4j.properties" "$KCONF/"
    logopts=(-Dlog4j.configuration="file:$KCONF/log4j.properties" -Dkafka.logs.dir="$KDIR")
  fi
  # format once; a restart reuses the formatted dir (formatting twice fails or mismatches the id)
  if [ ! -f "$KDATA/meta.properties" ]; then
    [ -s "$KDIR/cluster.id" ] || python3 -c \
      'import base64,uuid;print(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=").lstrip("-") .ljust(22,"A"))' \
      >"$KDIR/cluster.id"
    java -Xmx256m "${logopts[@]}" -cp "$KLIB/*" kafka.tools.StorageTool format \
      -t "$(cat "$KDIR/cluster.id")" -c "$KCONF/server.properties" >"$KDIR/format.log" 2>&1 </dev/null \
      || { fail_with_log "kafka storage format failed" "$KDIR/format.log"; return 1; }
    log "kafka storage formatted in $(elapsed "$t0") s (cluster id $(cat "$KDIR/cluster.id"))"
  fi
  [ -f "$KLOG" ] && mv -f "$KLOG" "$KLOG.prev"
  # shellcheck disable=SC2086
  spawn "$KPID" "$KLOG" java $KAFKA_HEAP -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    "${logopts[@]}" -cp "$KLIB/*" kafka.Kafka "$KCONF/server.properties"
  pid=$(cat "$KPID")
  local started=0
  for i in $(seq 1 $((TIMEOUT * 5))); do
    if [ $started = 0 ] && grep -q 'Kafka Server started' "$KLOG" 2>/dev/null; then started=1; fi
    if [ $started = 1 ] && kafka_metadata_ok; then
      log "kafka up: pid $pid, 127.0.0.1:$KAFKA_PORT ($(elapsed "$t0") s)"; return 0
    fi
    kill -0 "$pid" 2>/dev/null || { fail_with_log "kafka exited during start" "$KLOG"; return 1; }
    sleep 0.2
  done
  fail_with_log "kafka not ready after ${TIMEOUT} s (started line seen: $started)" "$KLOG"
}

kafka_down() {
  local sig=${1:-TERM} pid
  pid=$(live_pid "$KPID" kafka.Kafka)
  if [ -z "$pid" ]; then log "kafka not running"; rm -f "$KPID"; return 0; fi
  stop_pid kafka "$pid" "$sig"
  rm -f "$KPID"
}

kafka_status() {
  local pid
  pid=$(live_pid "$KPID" kafka.Kafka)
  if [ -n "$pid" ] && kafka_metadata_ok; then
    echo "kafka:   running, pid $pid, 127.0.0.1:$KAFKA_PORT (controller $KAFKA_CPORT), data $KDATA"
  elif [ -n "$pid" ]; then
    echo "kafka:   pid $pid alive but not answering metadata requests"; return 1
  else
    echo "kafka:   stopped"; return 1
  fi
}

print_env() {
  echo "export HRVIZ_MYSQL_URL=mysql://$DB_USER:$DB_PASSWORD@127.0.0.1:$MYSQL_PORT/hrviz"
  echo "export HRVIZ_KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT"
  echo "# for the tests (bash scripts/test.sh sets these):"
  echo "export HRVIZ_TEST_MYSQL_URL=mysql://$DB_USER:$DB_PASSWORD@127.0.0.1:$MYSQL_PORT/hrviz_test"
  echo "export HRVIZ_TEST_KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT"
}

# ---------------------------------------------------------------- main
cmd=${1:-status}
which=${2:-all}
case $cmd in
  start-kafka) cmd=up; which=kafka ;;   stop-kafka) cmd=down; which=kafka ;;
  start-mariadb) cmd=up; which=mariadb ;; stop-mariadb) cmd=down; which=mariadb ;;
  kill-kafka) cmd=kill; which=kafka ;;  kill-mariadb) cmd=kill; which=mariadb ;;
esac
case $which in
  all) targets=(mariadb kafka) ;;
  mariadb|mysql) targets=(mariadb) ;;
  kafka) targets=(kafka) ;;
  *) log "unknown service '$which' (mariadb|kafka)"; exit 2 ;;
esac

# one services.sh at a time per checkout (tests of several runs may stop/start servers concurrently):
# a second `up` waits here and then finds the server running
if [ "$cmd" != status ] && [ "$cmd" != env ]; then
  mkdir -p "$SVC"
  exec 9>"$SVC/.lock"
  flock -w $((TIMEOUT * 3)) 9 || { log "another services.sh holds $SVC/.lock"; exit 1; }
fi

case $cmd in
  up|start)
    for t in "${targets[@]}"; do "${t}_up"; done
    print_env ;;
  down|stop)
    rc=0; for t in "${targets[@]}"; do "${t}_down" TERM || rc=1; done; exit $rc ;;
  kill)
    for t in "${targets[@]}"; do "${t}_down" KILL; done ;;
  restart)
    for t in "${targets[@]}"; do "${t}_down" TERM; "${t}_up"; done ;;
  status)
    rc=0; for t in "${targets[@]}"; do "${t}_status" || rc=1; done; exit $rc ;;
  env) print_env ;;
  clean)
    for t in "${targets[@]}"; do "${t}_down" TERM; done
    for t in "${targets[@]}"; do
      case $t in
        mariadb) rm -rf "$MDB" ;;
        kafka) rm -rf "$KDATA" "$KCONF" "$KDIR/cluster.id" "$KLOG" "$KLOG.prev" ;;
      esac
    done
    log "data removed" ;;
  *) sed -n '2,20p' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
esac
