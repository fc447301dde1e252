"""Airflow DAG: a nightly sparkmerge merge, then its HTML report (apache-airflow-providers-apache-spark).

The merge runs on the cluster behind the `spark_default` connection with executors sized as
`jobs/executor-memory.sh` prints them for the config (fill in from its output: the `--dry-run` plan's
per-task estimate × executor cores, +50%, as spark.executor.memoryOverhead). Outputs are dated by the
logical date, so a rerun of a day fails with exit 4 instead of overwriting (pass --overwrite in
application_args to replace).
"""
from datetime import datetime, timedelta

from airflow import DAG
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

JAR = "/opt/sparkmerge/sparkmerge.jar"
CONFIG = "/opt/sparkmerge/jobs/ties.yml"
OUT = "hdfs:///models/merged/ties-{{ ds_nodash }}"

with DAG(
    dag_id="sparkmerge_nightly_merge",
    start_date=datetime(2026, 1, 1),
    schedule="30 2 * * *",
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=10)},
    tags=["sparkmerge"],
) as dag:
    merge = SparkSubmitOperator(
        task_id="merge",
        application=JAR,
        java_class="io.sparkmerge.cli.Main",
        application_args=["merge", CONFIG, OUT, "--partitions", "64"],
        files=CONFIG,
        conf={
            "spark.executor.cores": "2",
            "spark.executor.memory": "2560m",
            "spark.executor.memoryOverhead": "4096m",
            "spark.task.maxFailures": "4",
        },
        num_executors=32,
        name="sparkmerge merge ties {{ ds }}",
    )
    report = SparkSubmitOperator(
        task_id="report",
        application=JAR,
        java_class="io.sparkmerge.cli.Main",
        application_args=["report", OUT, "/var/www/sparkmerge/ties-{{ ds_nodash }}.html", "--overwrite"],
        conf={"spark.master": "local[1]"},
        name="sparkmerge report {{ ds }}",
    )
    merge >> report
