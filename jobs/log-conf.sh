# Sourced by the jobs/ wrappers before they call spark-submit: the log4j2 configuration of the spark-submit
# JVM on this machine (the driver in client mode, the submitting client in cluster mode), from its start:
# the file SPARKMERGE_LOG_CONF names, else the quiet configuration inside the jar (sparkmerge at INFO, Spark
# and Hadoop at WARN, a cluster submission's application id and state at INFO). The driver of a cluster-mode
# submission applies the jar's configuration itself; the YARN and Kubernetes wrappers pass SPARKMERGE_LOG_CONF on.
# Usage: . "$HERE/jobs/log-conf.sh" JAR
sparkmerge_absolute() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
if [ -n "${SPARKMERGE_LOG_CONF:-}" ]; then
  SPARKMERGE_LOG_URI="file:$(sparkmerge_absolute "$SPARKMERGE_LOG_CONF")"
else
  SPARKMERGE_LOG_URI="jar:file:$(sparkmerge_absolute "$1")!/io/sparkmerge/log4j2.xml"
fi
case " ${SPARK_SUBMIT_OPTS:-} " in
  *" -Dlog4j2.configurationFile=$SPARKMERGE_LOG_URI "*) ;; # a wrapper calling another (executor-memory.sh) set it
  *) export SPARK_SUBMIT_OPTS="${SPARK_SUBMIT_OPTS:+$SPARK_SUBMIT_OPTS }-Dlog4j2.configurationFile=$SPARKMERGE_LOG_URI" ;;
esac
