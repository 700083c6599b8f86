#!/usr/bin/env bash
# Local infrastructure for development and tests, as plain processes (no Docker engine needed):
#   - Apache Kafka 4.x in KRaft mode (one combined broker + controller), jars from Maven Central;
#   - Apicurio Registry 3.0.x (Confluent-compatible API under /apis/ccompat/v7), storage in
#     the PostgreSQL below;
#   - PostgreSQL from Debian's packages, a cluster of our own.
#
# Usage: scripts/infra.sh up|down|status|env|registry-stop|registry-start|prune-test-topics
#        scripts/infra.sh broker-stop|broker-kill|broker-start N   (fault injection, cluster mode)
#        scripts/infra.sh pg-stop|pg-start                         (fault injection)
#
# Everything lives under .local/ (git-ignored): caches, data, logs, pid files.
# Ports: INFRA_KAFKA_PORT (19092), INFRA_KAFKA_CONTROLLER_PORT (19093),
#        INFRA_REGISTRY_PORT (18081), INFRA_PG_PORT (15432).
# Cluster mode: INFRA_KAFKA_CLUSTER=3 (`make infra-up CLUSTER=3`) starts three combined
# broker + controller nodes instead of one: node N listens on INFRA_KAFKA_PORT + 2(N-1) and its
# controller on INFRA_KAFKA_CONTROLLER_PORT + 2(N-1); topics default to replication factor 3
# and min.insync.replicas=2. The mode is remembered in .local/run until `down`.
# Already running elsewhere? Set KAFKA_BROKERS, SCHEMA_REGISTRY_URL and/or DATABASE_URL and
# the matching component is not started. Variables that name exactly what this script starts
# (as `source <(scripts/infra.sh env)` sets them) do not count as "elsewhere".
# `down` stops what this script started, as its pid and marker files in .local/run say,
# whatever the environment says.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOCAL="$ROOT/.local"
CACHE="$LOCAL/cache"
LOGS="$LOCAL/logs"
RUN="$LOCAL/run"

KAFKA_PORT=${INFRA_KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${INFRA_KAFKA_CONTROLLER_PORT:-19093}
REGISTRY_PORT=${INFRA_REGISTRY_PORT:-18081}
PG_PORT=${INFRA_PG_PORT:-15432}

# The node count of a running Kafka wins over the variable, so `down`, `status` and `env` need
# no flag repeated.
if [ -f "$RUN/kafka.nodes" ]; then KAFKA_NODES=$(cat "$RUN/kafka.nodes"); else KAFKA_NODES=${INFRA_KAFKA_CLUSTER:-1}; fi
case "$KAFKA_NODES" in 1|3) ;; *) echo "[infra] error: INFRA_KAFKA_CLUSTER must be 1 or 3 (got $KAFKA_NODES)" >&2; exit 2 ;; esac

KAFKA_VERSION=4.1.1
APICURIO_VERSION=3.0.9 # 3.1+ is compiled for Java 21; this machine's Java is 17.

PG_USER=novatrade
PG_PASSWORD=novatrade
PG_DB=novatrade
PG_REGISTRY_DB=apicurio_registry

log() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] error: %s\n' "$*" >&2; exit 1; }

mkdir -p "$CACHE" "$LOGS" "$RUN"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A component is external when its variable points somewhere other than what `env` prints
# for the local one: sourcing our own `env` output must not turn local into external.
external_kafka() { [ -n "${KAFKA_BROKERS:-}" ] && [ "$KAFKA_BROKERS" != "$(local_kafka)" ]; }
external_registry() { [ -n "${SCHEMA_REGISTRY_URL:-}" ] && [ "$SCHEMA_REGISTRY_URL" != "$(local_registry)" ]; }
external_pg() { [ -n "${DATABASE_URL:-}" ] && [ "$DATABASE_URL" != "$(local_pg)" ]; }
local_kafka() {
  local n list=""
  for n in $(kafka_node_ids); do list="$list${list:+,}127.0.0.1:$(kafka_node_port "$n")"; done
  echo "$list"
}
local_registry() { echo "http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7"; }
local_pg() { echo "postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"; }

pid_alive() { # pidfile
  [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

wait_until() { # seconds description command...
  local seconds=$1 what=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
  log "$what ready"
}

stop_pidfile() { # name pidfile
  local name=$1 pidfile=$2
  if pid_alive "$pidfile"; then
    local pid; pid=$(cat "$pidfile")
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name did not stop in 30 s, killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
}

# ---------------------------------------------------------------- PostgreSQL

pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$bin" ] && [ -x "$bin/postgres" ] && { echo "$bin"; return; }
  return 1
}

ensure_pg_installed() {
  pg_bin >/dev/null && return
  [ "$(id -u)" = 0 ] || die "PostgreSQL server binaries not found; install Debian's 'postgresql' package (or set DATABASE_URL)"
  log "installing PostgreSQL from Debian packages"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$LOGS/apt.log" 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >>"$LOGS/apt.log" 2>&1 \
    || die "apt-get install postgresql failed, see $LOGS/apt.log"
  # Debian's package starts its own cluster on 5432; we run ours, so leave that one alone.
  pg_bin >/dev/null || die "PostgreSQL still missing after apt-get install"
}

# PostgreSQL refuses to run as root: as root we run it as the 'postgres' user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The cluster lives in .local/postgres unless the 'postgres' user cannot reach that folder
# (a checkout under /root, say); then it lives in a folder of its own under /var/tmp and
# .local/postgres links to it.
pg_home() {
  local want="$LOCAL/postgres"
  if [ -L "$want" ]; then readlink -f "$want"; return; fi
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$LOCAL" 2>/dev/null; then
    local alt
    alt="/var/tmp/novatrade-pg-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
    mkdir -p "$alt"
    ln -sfn "$alt" "$want"
    echo "$alt"; return
  fi
  mkdir -p "$want"; echo "$want"
}

# Written when this script starts PostgreSQL (pg_ctl daemonises, so the marker holds the data
# folder, not a pid); `down` stops exactly that cluster.
PG_MARKER="$RUN/postgres.started"

pg_up() {
  if external_pg; then log "DATABASE_URL is set: not starting PostgreSQL"; return; fi
  ensure_pg_installed
  local bin home data sock
  bin=$(pg_bin); home=$(pg_home); data="$home/data"; sock="$home/run"
  mkdir -p "$sock"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$home"
  if [ ! -f "$data/PG_VERSION" ]; then
    log "initialising PostgreSQL cluster in $data"
    as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$LOGS/postgres-initdb.log" 2>&1 \
      || die "initdb failed, see $LOGS/postgres-initdb.log"
  fi
  if as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    log "PostgreSQL already running on port $PG_PORT"
  else
    port_open "$PG_PORT" && die "port $PG_PORT is taken by another process (set INFRA_PG_PORT)"
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_pg "$bin/pg_ctl" -D "$data" -l "$home/postgres.log" -w -t 60 \
      -o "-p $PG_PORT -k $sock -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c synchronous_commit=off" \
      start >/dev/null || die "PostgreSQL did not start, see $home/postgres.log"
    echo "$data" >"$PG_MARKER"
    ln -sfn "$home/postgres.log" "$LOGS/postgres.log"
  fi
  local psql=("$bin/psql" -h "$sock" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt)
  if [ "$(as_pg "${psql[@]}" -c "select 1 from pg_roles where rolname='$PG_USER'")" != 1 ]; then
    as_pg "${psql[@]}" -c "create role $PG_USER login createdb password '$PG_PASSWORD'"
  fi
  for db in "$PG_DB" "$PG_REGISTRY_DB"; do
    if [ "$(as_pg "${psql[@]}" -c "select 1 from pg_database where datname='$db'")" != 1 ]; then
      as_pg "${psql[@]}" -c "create database $db owner $PG_USER"
    fi
  done
}

pg_down() {
  # Only the cluster this script started (its marker), never one it merely found running.
  [ -f "$PG_MARKER" ] || return 0
  local bin data
  data=$(cat "$PG_MARKER")
  bin=$(pg_bin) || { rm -f "$PG_MARKER"; return 0; }
  if [ -f "$data/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    log "stopping PostgreSQL"
    as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
  fi
  rm -f "$PG_MARKER"
}

pg_status() {
  if external_pg; then echo "postgres: external ($DATABASE_URL)"; return; fi
  local bin; bin=$(pg_bin) || { echo "postgres: not installed"; return; }
  if [ -e "$LOCAL/postgres" ] && as_pg "$bin/pg_ctl" -D "$(readlink -f "$LOCAL/postgres")/data" status >/dev/null 2>&1; then
    echo "postgres: running on 127.0.0.1:$PG_PORT"
  else
    echo "postgres: stopped"
  fi
}

# ---------------------------------------------------------------- Kafka

kafka_libs() {
  local dir="$CACHE/kafka-$KAFKA_VERSION/libs" stamp
  stamp=$(sha256sum "$ROOT/infra/kafka/pom.xml" | cut -c1-16)
  if [ "$(cat "$dir/.stamp" 2>/dev/null)" != "$stamp" ]; then
    log "resolving Kafka $KAFKA_VERSION jars from Maven Central"
    rm -rf "$dir"; mkdir -p "$dir"
    mvn -q -B -f "$ROOT/infra/kafka/pom.xml" dependency:copy-dependencies \
      -Dkafka.version="$KAFKA_VERSION" -DoutputDirectory="$dir" >"$LOGS/kafka-maven.log" 2>&1 \
      || die "Maven could not resolve Kafka, see $LOGS/kafka-maven.log"
    echo "$stamp" >"$dir/.stamp"
  fi
  echo "$dir"
}

kafka_node_ids() { seq 1 "$KAFKA_NODES"; }
kafka_node_port() { echo $((KAFKA_PORT + 2 * ($1 - 1))); }
kafka_node_controller_port() { echo $((KAFKA_CONTROLLER_PORT + 2 * ($1 - 1))); }
# A single node keeps the paths it always had, so an existing .local/kafka is reused as it is.
kafka_node_home() { if [ "$KAFKA_NODES" = 1 ]; then echo "$LOCAL/kafka"; else echo "$LOCAL/kafka-cluster/node-$1"; fi; }
kafka_node_pidfile() { if [ "$KAFKA_NODES" = 1 ]; then echo "$RUN/kafka.pid"; else echo "$RUN/kafka-$1.pid"; fi; }
kafka_node_log() { if [ "$KAFKA_NODES" = 1 ]; then echo "$LOGS/kafka.log"; else echo "$LOGS/kafka-$1.log"; fi; }
kafka_node_name() { if [ "$KAFKA_NODES" = 1 ]; then echo "Kafka"; else echo "Kafka node $1"; fi; }

kafka_node_properties() { # node
  local n=$1 home voters="" v replicas=$KAFKA_NODES min_isr=1
  home=$(kafka_node_home "$n")
  for v in $(kafka_node_ids); do voters="$voters${voters:+,}$v@127.0.0.1:$(kafka_node_controller_port "$v")"; done
  [ "$KAFKA_NODES" -gt 1 ] && min_isr=2
  cat <<EOF
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$(kafka_node_port "$n"),CONTROLLER://127.0.0.1:$(kafka_node_controller_port "$n")
advertised.listeners=PLAINTEXT://127.0.0.1:$(kafka_node_port "$n")
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$home/data
num.partitions=3
default.replication.factor=$replicas
min.insync.replicas=$min_isr
offsets.topic.replication.factor=$replicas
offsets.topic.num.partitions=10
# A classic consumer group's metadata record (written to __consumer_offsets at every rebalance)
# names every topic each member subscribes to: with one delivery topic per endpoint it passes the
# default 1 MiB limit at a few thousand endpoints, and the group can no longer rebalance. The
# broker default applies to __consumer_offsets (created on first use); 16 MiB holds 10,000+
# endpoints. Producers of the project's topics stay far below it (MAX_PRODUCE_REQUEST_BYTES).
message.max.bytes=16777216
transaction.state.log.replication.factor=$replicas
transaction.state.log.min.isr=$min_isr
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=$replicas
# A developer broker: start consumer groups at once instead of waiting 3 s for joiners.
group.initial.rebalance.delay.ms=0
# Topics are created by the project with explicit partitions and retention, never by accident.
auto.create.topics.enable=false
# Deleted topics' files (and their file descriptors) go after 5 s, not 60: tests and benchmarks
# create and delete thousands of endpoint topics in a row (10,000 twice in make bench), and the
# broker's open files otherwise reached this machine's limit of 20,000.
log.segment.delete.delay.ms=5000
# Every partition's high watermark is written to one checkpoint file every 30 s, not 5: the
# write covers all partitions (10,000 endpoint topics: a sixth of an idle broker's CPU samples at
# 5 s). The file only seeds a restarted broker's high watermarks, which its leaders move up again
# to what their in-sync replicas hold (followers truncate by leader epoch, not by it), so an
# older checkpoint delays nothing readable; fine for production as well.
replica.high.watermark.checkpoint.interval.ms=30000
EOF
  if [ "$KAFKA_NODES" -gt 1 ]; then
    cat <<EOF
# A stopped node leaves the in-sync replicas within seconds, and takes its leaderships back
# soon after it returns.
replica.lag.time.max.ms=10000
auto.leader.rebalance.enable=true
leader.imbalance.check.interval.seconds=10
EOF
  fi
}

kafka_up() {
  if external_kafka; then log "KAFKA_BROKERS is set: not starting Kafka"; return; fi
  local libs n cluster_id="" pids=() pid
  libs=$(kafka_libs)
  echo "$KAFKA_NODES" >"$RUN/kafka.nodes"
  # Every node of a cluster is formatted with the same cluster id, kept beside the nodes.
  if [ "$KAFKA_NODES" -gt 1 ]; then
    mkdir -p "$LOCAL/kafka-cluster"
    [ -s "$LOCAL/kafka-cluster/cluster.id" ] \
      || java -cp "$libs/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1 >"$LOCAL/kafka-cluster/cluster.id"
    cluster_id=$(cat "$LOCAL/kafka-cluster/cluster.id")
  fi
  # Nodes start together: a KRaft quorum of three elects a leader only once two voters are up.
  for n in $(kafka_node_ids); do
    kafka_node_start "$n" "$libs" "$cluster_id" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || die "Kafka failed to start"; done
}

kafka_node_start() { # node libs cluster-id
  local n=$1 libs=$2 cluster_id=$3 home pidfile port logfile name
  home=$(kafka_node_home "$n"); pidfile=$(kafka_node_pidfile "$n"); port=$(kafka_node_port "$n")
  logfile=$(kafka_node_log "$n"); name=$(kafka_node_name "$n")
  if pid_alive "$pidfile"; then log "$name already running on port $port"; return; fi
  port_open "$port" && die "port $port is taken by another process (set INFRA_KAFKA_PORT)"
  mkdir -p "$home/data"
  kafka_node_properties "$n" >"$home/server.properties"
  local java_cp="$libs/*"
  if [ ! -f "$home/data/meta.properties" ]; then
    log "formatting KRaft storage in $home/data"
    [ -n "$cluster_id" ] || cluster_id=$(java -cp "$java_cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
    java -Dlog4j2.configurationFile="$ROOT/infra/kafka/log4j2.properties" -cp "$java_cp" \
      kafka.tools.StorageTool format -t "$cluster_id" -c "$home/server.properties" >"$LOGS/kafka-format-$n.log" 2>&1 \
      || die "formatting Kafka storage failed, see $LOGS/kafka-format-$n.log"
  fi
  local heap=1g
  [ "$KAFKA_NODES" -gt 1 ] && heap=512m
  log "starting $name ($KAFKA_VERSION) on 127.0.0.1:$port"
  # The log is appended to: readiness looks for a "started" line after this start's mark only.
  local mark=0
  [ -f "$logfile" ] && mark=$(wc -l <"$logfile")
  setsid nohup java -Xms256m -Xmx$heap -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$ROOT/infra/kafka/log4j2.properties" \
    -cp "$java_cp" kafka.Kafka "$home/server.properties" >>"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
  wait_until 120 "$name" kafka_node_ready "$n" "$mark" || die "$name did not start in 120 s, see $logfile"
}

kafka_node_ready() { # node log-line-mark
  pid_alive "$(kafka_node_pidfile "$1")" || die "$(kafka_node_name "$1") exited, see $(kafka_node_log "$1")"
  port_open "$(kafka_node_port "$1")" && tail -n +"$(($2 + 1))" "$(kafka_node_log "$1")" | grep -q "Kafka Server started"
}

kafka_down() {
  local n pids=() pid
  # All nodes at once: the last node of a quorum stopped one by one waits for a controller
  # majority that is gone, and would only end when killed.
  for n in $(kafka_node_ids); do
    stop_pidfile "$(kafka_node_name "$n")" "$(kafka_node_pidfile "$n")" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || true; done
  rm -f "$RUN/kafka.nodes"
}

kafka_status() {
  if external_kafka; then echo "kafka: external ($KAFKA_BROKERS)"; return; fi
  local n pidfile running=0 line=""
  for n in $(kafka_node_ids); do
    pidfile=$(kafka_node_pidfile "$n")
    if pid_alive "$pidfile"; then
      running=$((running + 1))
      line="$line${line:+, }127.0.0.1:$(kafka_node_port "$n") (pid $(cat "$pidfile"))"
    fi
  done
  if [ "$running" = 0 ]; then echo "kafka: stopped"
  elif [ "$KAFKA_NODES" = 1 ]; then echo "kafka: running on $line, $(kafka_topic_summary)"
  else echo "kafka: cluster of $KAFKA_NODES nodes, $running running: $line; $(kafka_topic_summary)"; fi
}

# Fault injection on one node: stop (TERM, a clean shutdown), kill (KILL, no shutdown) or start.
kafka_node_fault() { # stop|kill|start node
  local action=$1 n=${2:-} pidfile
  case "$n" in ''|*[!0-9]*) die "which node? 1..$KAFKA_NODES" ;; esac
  [ "$n" -ge 1 ] && [ "$n" -le "$KAFKA_NODES" ] || die "node must be 1..$KAFKA_NODES (got $n)"
  external_kafka && die "Kafka is external: not touching it"
  pidfile=$(kafka_node_pidfile "$n")
  case "$action" in
    stop) stop_pidfile "$(kafka_node_name "$n")" "$pidfile" ;;
    kill)
      pid_alive "$pidfile" || die "$(kafka_node_name "$n") is not running"
      log "killing $(kafka_node_name "$n") (pid $(cat "$pidfile"))"
      kill -KILL "$(cat "$pidfile")"
      rm -f "$pidfile" ;;
    start)
      local cluster_id=""
      [ "$KAFKA_NODES" -gt 1 ] && cluster_id=$(cat "$LOCAL/kafka-cluster/cluster.id")
      kafka_node_start "$n" "$(kafka_libs)" "$cluster_id" ;;
  esac
}

# Topic and partition counts from the broker's data folder (one folder per partition,
# `<topic>-<n>`): a broker that fills up with test topics slows everything down, so `status`
# shows it.
kafka_topic_summary() {
  local folders
  folders=$(find "$(kafka_node_home 1)/data" -mindepth 1 -maxdepth 1 -type d -regex '.*-[0-9]+$' -printf '%f\n' 2>/dev/null | grep -v '^__' || true)
  local partitions topics
  partitions=$(printf '%s' "$folders" | grep -c . || true)
  topics=$(printf '%s' "$folders" | sed -E 's/-[0-9]+$//' | sort -u | grep -c . || true)
  echo "$topics topics, $partitions partitions"
}

# Deletes the topics integration tests and benchmarks create (names starting with `it.`, `it-`
# or `bench.`) from a broker filled by earlier runs. Not while a test run is using the broker.
kafka_prune_test_topics() {
  (cd "$ROOT" && node --input-type=module -e '
    import { Kafka, logLevel } from "kafkajs";
    const admin = new Kafka({ brokers: process.argv[1].split(","), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => /^(it[.-]|bench[.-])/.test(t));
    for (let i = 0; i < topics.length; i += 200) await admin.deleteTopics({ topics: topics.slice(i, i + 200) });
    console.error(`[infra] deleted ${topics.length} test topics`);
    await admin.disconnect();
  ' "$(local_kafka)")
}

# ---------------------------------------------------------------- Schema registry

registry_home() {
  local dir="$CACHE/apicurio-registry-$APICURIO_VERSION"
  if [ ! -f "$dir/apicurio-registry-app-$APICURIO_VERSION-runner.jar" ]; then
    log "resolving Apicurio Registry $APICURIO_VERSION from Maven Central"
    rm -rf "$dir" "$CACHE/apicurio-download"; mkdir -p "$dir" "$CACHE/apicurio-download"
    mvn -q -B dependency:copy \
      -Dartifact="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all" \
      -DoutputDirectory="$CACHE/apicurio-download" >"$LOGS/registry-maven.log" 2>&1 \
      || die "Maven could not resolve Apicurio Registry, see $LOGS/registry-maven.log"
    tar -xzf "$CACHE"/apicurio-download/*.tar.gz -C "$dir"
    rm -rf "$CACHE/apicurio-download"
  fi
  echo "$dir"
}

registry_up() {
  if external_registry; then log "SCHEMA_REGISTRY_URL is set: not starting the registry"; return; fi
  local pidfile="$RUN/registry.pid"
  if pid_alive "$pidfile"; then log "registry already running on port $REGISTRY_PORT"; return; fi
  port_open "$REGISTRY_PORT" && die "port $REGISTRY_PORT is taken by another process (set INFRA_REGISTRY_PORT)"
  local home storage=()
  home=$(registry_home)
  if ! external_pg; then
    # Schemas must outlive a registry restart: messages in Kafka carry their schema ids.
    storage=(-Dapicurio.storage.kind=sql -Dapicurio.storage.sql.kind=postgresql
      "-Dapicurio.datasource.url=jdbc:postgresql://127.0.0.1:$PG_PORT/$PG_REGISTRY_DB"
      "-Dapicurio.datasource.username=$PG_USER" "-Dapicurio.datasource.password=$PG_PASSWORD"
      -Dapicurio.datasource.jdbc.initial-size=2 -Dapicurio.datasource.jdbc.min-size=2
      -Dapicurio.datasource.jdbc.max-size=10)
  else
    log "DATABASE_URL is external: the local registry keeps its schemas in memory"
  fi
  log "starting Apicurio Registry $APICURIO_VERSION on 127.0.0.1:$REGISTRY_PORT"
  setsid nohup java -Xms128m -Xmx512m -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$REGISTRY_PORT" \
    -Dquarkus.log.level=WARN -Dquarkus.http.access-log.enabled=false \
    "${storage[@]}" -jar "$home/apicurio-registry-app-$APICURIO_VERSION-runner.jar" \
    >"$LOGS/registry.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  wait_until 120 "schema registry" registry_ready || die "registry did not start in 120 s, see $LOGS/registry.log"
}

registry_ready() {
  pid_alive "$RUN/registry.pid" || die "registry exited, see $LOGS/registry.log"
  curl -sf -o /dev/null "http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7/subjects"
}

registry_down() { stop_pidfile "schema registry" "$RUN/registry.pid"; }

registry_status() {
  if external_registry; then echo "registry: external ($SCHEMA_REGISTRY_URL)"
  elif pid_alive "$RUN/registry.pid"; then echo "registry: running on http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7 (pid $(cat "$RUN/registry.pid"))"
  else echo "registry: stopped"; fi
}

# ---------------------------------------------------------------- commands

print_env() {
  echo "KAFKA_BROKERS=${KAFKA_BROKERS:-$(local_kafka)}"
  echo "SCHEMA_REGISTRY_URL=${SCHEMA_REGISTRY_URL:-$(local_registry)}"
  echo "DATABASE_URL=${DATABASE_URL:-$(local_pg)}"
}

case "${1:-}" in
  up)
    # Kafka resolves and starts while PostgreSQL and the registry come up: two cores, use both.
    pg_up
    kafka_up &
    kafka_job=$!
    registry_up
    wait "$kafka_job" || die "Kafka failed to start"
    print_env >"$LOCAL/env"
    log "up; connection settings in .local/env"
    ;;
  down)
    registry_down
    kafka_down
    pg_down
    ;;
  status)
    kafka_status; registry_status; pg_status
    ;;
  env)
    print_env
    ;;
  registry-stop)
    # Fault tests: take the local registry away (and bring it back with registry-start).
    external_registry && die "the registry is external: not stopping it"
    registry_down
    ;;
  registry-start)
    external_registry && die "the registry is external: not starting it"
    registry_up
    ;;
  prune-test-topics)
    external_kafka && die "Kafka is external: not deleting topics there"
    pid_alive "$(kafka_node_pidfile 1)" || die "Kafka is not running"
    kafka_prune_test_topics
    ;;
  broker-stop|broker-kill|broker-start)
    kafka_node_fault "${1#broker-}" "${2:-}"
    ;;
  pg-stop)
    # Fault tests: take the local PostgreSQL away (and bring it back with pg-start).
    external_pg && die "PostgreSQL is external: not stopping it"
    pg_down
    ;;
  pg-start)
    external_pg && die "PostgreSQL is external: not starting it"
    pg_up
    ;;
  *)
    echo "usage: $0 up|down|status|env|registry-stop|registry-start|prune-test-topics|broker-stop N|broker-kill N|broker-start N|pg-stop|pg-start" >&2; exit 2
    ;;
esac
