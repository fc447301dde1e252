"""Airflow DAG: scheduled WSM checkpoint merging with sparkmerge (methods.md section 5).

Every 30 minutes, `sparkmerge checkpoints ROOT OUT --once` merges the newest window of complete
checkpoints of a running training job into OUT/step-<N>/ and atomically points OUT/latest at it.
A step that is already merged is skipped (the run reads the step's manifest), so retries and
overlapping schedules never merge a step twice. Needs apache-airflow-providers-apache-spark and a
`spark_default` connection to the cluster; paths and sizes are examples.
"""
from datetime import datetime, timedelta

from airflow import DAG
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

RUN_ROOT = "hdfs:///runs/run42"          # holds checkpoint-1000/, checkpoint-2000/, ...
WSM_OUT = "hdfs:///models/run42-wsm"     # gets step-<N>/ and latest
SPARKMERGE_JAR = "/opt/sparkmerge/sparkmerge-0.1.0.jar"

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
        application=SPARKMERGE_JAR,
        java_class="io.sparkmerge.cli.Main",
        application_args=[
            "checkpoints", RUN_ROOT, WSM_OUT,
            "--window", "4",
            "--schedule", "1-sqrt",
            "--once",
        ],
        conf={"spark.executor.memory": "8g"},
        name="sparkmerge-wsm-run42",
    )
