"""Airflow DAG: a nightly sparkmerge merge on YARN, then its HTML report (apache-airflow-providers-apache-spark).

The merge is submitted in cluster deploy mode through the `spark_default` connection (master `yarn`), with
executors sized as `jobs/executor-memory.sh` prints them for the config (fill in from its output: the
`--dry-run` plan's per-task estimate x executor cores, +50%, as spark.executor.memoryOverhead). In cluster
mode the driver runs in a YARN container and sees none of this machine's files: the config is shipped with
`files` (YARN puts it in the container's working directory) and the command names it by its base name.
Logging: the driver applies the jar's quiet log4j2 configuration; spark-submit on this machine gets the same
one through SPARK_SUBMIT_OPTS (the application id and state stay at INFO: the provider parses them). Set
LOG_CONF to ship your own configuration instead. Outputs are dated by the logical date, so a rerun of a day
fails with exit 4 instead of overwriting (add --overwrite to the arguments to replace).
The report runs on this machine (spark-submit in local mode, no cluster needed) and writes REPORT here.
"""
import os
from datetime import datetime, timedelta

from airflow import DAG
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2
    from airflow.operators.bash import BashOperator

SPARKMERGE_JAR = "/opt/sparkmerge/sparkmerge-0.1.0.jar"  # mvn package's target/sparkmerge-0.1.0.jar
CONFIG = "/opt/sparkmerge/jobs/ties.yml"  # on this machine; shipped to the driver
LOG_CONF = ""  # e.g. "/opt/sparkmerge/log4j2.xml": your own log4j2 file for the driver, shipped like CONFIG
OUT = "hdfs:///models/merged/ties-{{ ds_nodash }}"
REPORT = "/var/www/sparkmerge/ties-{{ ds_nodash }}.html"
QUIET_SUBMIT = {"SPARK_SUBMIT_OPTS": f"-Dlog4j2.configurationFile=jar:file:{SPARKMERGE_JAR}!/io/sparkmerge/log4j2.xml"}

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
        conn_id="spark_default",
        deploy_mode="cluster",
        application=SPARKMERGE_JAR,
        java_class="io.sparkmerge.cli.Main",
        application_args=["merge", os.path.basename(CONFIG), OUT, "--partitions", "64"],
        files=",".join([CONFIG, LOG_CONF]) if LOG_CONF else CONFIG,
        env_vars={**QUIET_SUBMIT, **({"SPARKMERGE_LOG_CONF": os.path.basename(LOG_CONF)} if LOG_CONF else {})},
        conf={
            "spark.executor.cores": "2",
            "spark.executor.memory": "2560m",
            "spark.executor.memoryOverhead": "4096m",
            "spark.task.maxFailures": "4",
            "spark.yarn.maxAppAttempts": "1",
        },
        num_executors=32,
        name="sparkmerge merge ties {{ ds }}",
    )
    report = BashOperator(
        task_id="report",
        bash_command=(
            f"mkdir -p {os.path.dirname(REPORT)} && spark-submit --master 'local[1]' --class io.sparkmerge.cli.Main "
            f"{SPARKMERGE_JAR} report {OUT} {REPORT} --overwrite"
        ),
        env=QUIET_SUBMIT,
        append_env=True,
    )
    merge >> report
