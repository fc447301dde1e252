#!/usr/bin/env bash
# A real Spark standalone cluster on this machine, from the project's own classpath (no Spark download):
# one master and two workers, each a separate JVM bound to 127.0.0.1 (a worker's address: WORKER_HOSTS).
#
#   jobs/local-cluster.sh start [DIR]   # prints the master URL (spark://127.0.0.1:PORT); state in DIR
#   jobs/local-cluster.sh stop  [DIR]   # stops the JVMs started by 'start'
#
# DIR defaults to target/local-cluster. Environment: MASTER_PORT (default: a free port), WORKER_CORES (1),
# WORKER_MEMORY (1g), WORKER_HOSTS (the two workers' bind addresses, default "127.0.0.1 127.0.0.1"; e.g.
# "127.0.0.1 127.0.0.2" puts them on distinct hosts as Spark sees them, which speculation needs).
# Workers launch executors with SPARK_HOME=DIR/spark-home, whose jars/ links to the project's compile
# classpath (Spark included), the layout Spark's launcher expects of a distribution.
set -euo pipefail
HOME_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CMD="${1:-}"
DIR="$(mkdir -p "${2:-$HOME_DIR/target/local-cluster}" && cd "${2:-$HOME_DIR/target/local-cluster}" && pwd)"
CP_FILE="$HOME_DIR/target/classpath.txt"

ADD_OPENS=(-XX:+IgnoreUnrecognizedVMOptions
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED
  --add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED
  -Djdk.reflect.useDirectMethodHandle=false -Dio.netty.tryReflectionSetAccessible=true)

classpath() {
  if [[ ! -f "$CP_FILE" ]]; then
    # every build writes it (pom.xml); without one, build it here, with Maven's output kept out of ours
    if ! (cd "$HOME_DIR" && mvn -q -B dependency:build-classpath -Dmdep.outputFile="$CP_FILE" \
        -Dmdep.includeScope=compile >"$DIR/classpath-build.log" 2>&1); then
      echo "local-cluster: could not build the classpath (mvn dependency:build-classpath); see $DIR/classpath-build.log" >&2
      exit 1
    fi
  fi
  cat "$CP_FILE"
}

start_jvm() { # name ip main args...
  local name="$1" ip="$2"; shift 2
  SPARK_HOME="$DIR/spark-home" SPARK_LOCAL_IP="$ip" SPARK_SCALA_VERSION=2.13 \
    nohup java -Xmx512m "${ADD_OPENS[@]}" -Dlog4j2.configurationFile="$DIR/log4j2.xml" \
    -cp "$(classpath)" "$@" >"$DIR/$name.log" 2>&1 &
  echo $! >"$DIR/$name.pid"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

case "$CMD" in
  start)
    mkdir -p "$DIR/spark-home/jars" "$DIR/work"
    # the daemons log at INFO (registrations, executor launches): readiness is read from the master's log
    cat >"$DIR/log4j2.xml" <<'XML'
<Configuration status="WARN">
  <Appenders><Console name="out" target="SYSTEM_ERR"><PatternLayout pattern="%d{HH:mm:ss} %-5level %c{1}: %msg%n"/></Console></Appenders>
  <Loggers>
    <Logger name="org.apache.spark.deploy" level="INFO"/>
    <Root level="WARN"><AppenderRef ref="out"/></Root>
  </Loggers>
</Configuration>
XML
    rm -f "$DIR/spark-home/jars/"*
    IFS=: read -ra JARS <<<"$(classpath)"
    for j in "${JARS[@]}"; do ln -sf "$j" "$DIR/spark-home/jars/"; done
    PORT="${MASTER_PORT:-$(free_port)}"
    URL="spark://127.0.0.1:$PORT"
    start_jvm master 127.0.0.1 org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$PORT" --webui-port 0
    read -ra HOSTS <<<"${WORKER_HOSTS:-127.0.0.1 127.0.0.1}"
    for i in 1 2; do
      WHOST="${HOSTS[$((i - 1))]:-127.0.0.1}"
      start_jvm "worker-$i" "$WHOST" org.apache.spark.deploy.worker.Worker --host "$WHOST" --webui-port 0 \
        --cores "${WORKER_CORES:-1}" --memory "${WORKER_MEMORY:-1g}" --work-dir "$DIR/work/worker-$i" "$URL"
    done
    # ready when the master has registered both workers
    for _ in $(seq 1 240); do
      if [[ "$(grep -c 'Registering worker' "$DIR/master.log" 2>/dev/null || true)" -ge 2 ]]; then
        echo "$URL" >"$DIR/master-url"
        echo "$URL"
        exit 0
      fi
      sleep 0.5
    done
    echo "local-cluster: workers did not register within 120 s; see $DIR/*.log" >&2
    "$0" stop "$DIR"
    exit 1
    ;;
  stop)
    for f in "$DIR"/worker-*.pid "$DIR"/master.pid; do
      [[ -f "$f" ]] || continue
      pid="$(cat "$f")"
      # executors are children of the workers: stop them with their worker
      pkill -TERM -P "$pid" 2>/dev/null || true
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$f"
    done
    ;;
  *)
    echo "usage: $0 start|stop [DIR]" >&2
    exit 2
    ;;
esac
