"""Airflow DAG: scheduled WSM checkpoint merging with sparkmerge (methods.md section 5).

Every 30 minutes, `sparkmerge checkpoints ROOT OUT --once` merges the newest window of complete
checkpoints of a running training job into OUT/step-<N>/ and atomically points OUT/latest at it.
A step that is already merged is skipped (the run reads the step's manifest), so retries and
overlapping schedules never merge a step twice. Needs apache-airflow-providers-apache-spark and a
`spark_default` connection to the cluster (master `yarn`); submitted in cluster deploy mode, so every path
is on shared storage (hdfs://). Logging as in airflow_merge_dag.py: the driver applies the jar's quiet
log4j2 configuration, and spark-submit on this machine gets it through SPARK_SUBMIT_OPTS. Paths and sizes
are examples.
"""
from datetime import datetime, timedelta

from airflow import DAG
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

SPARKMERGE_JAR = "/opt/sparkmerge/sparkmerge-0.1.0.jar"  # mvn package's target/sparkmerge-0.1.0.jar
RUN_ROOT = "hdfs:///runs/run42"  # holds checkpoint-1000/, checkpoint-2000/, ...
WSM_OUT = "hdfs:///models/run42-wsm"  # gets step-<N>/ and latest
QUIET_SUBMIT = {"SPARK_SUBMIT_OPTS": f"-Dlog4j2.configurationFile=jar:file:{SPARKMERGE_JAR}!/io/sparkmerge/log4j2.xml"}

with DAG(
    dag_id="sparkmerge_wsm_run42",
    start_date=datetime(2026, 1, 1),
    schedule=timedelta(minutes=30),
    catchup=False,
    max_active_runs=1,  # one merge at a time; a skipped step costs only a directory listing
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["sparkmerge", "wsm"],
) as dag:
    SparkSubmitOperator(
        task_id="merge_newest_window",
        conn_id="spark_default",
        deploy_mode="cluster",
        application=SPARKMERGE_JAR,
        java_class="io.sparkmerge.cli.Main",
        application_args=[
            "checkpoints", RUN_ROOT, WSM_OUT,
            "--window", "4",
            "--schedule", "1-sqrt",
            "--once",
        ],
        env_vars=QUIET_SUBMIT,
        conf={"spark.executor.memory": "8g", "spark.yarn.maxAppAttempts": "1"},
        name="sparkmerge-wsm-run42",
    )
