package io.sparkmerge.job;

import io.sparkmerge.plan.MergePlan;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/**
 * The driver pre-passes of the side inputs that need the data ({@link io.sparkmerge.method.SideInput}):
 * module importances ({@link ImportanceSideInputs}), then whole-model magnitude thresholds
 * ({@link GlobalThresholdJob}), each a no-op when no planned tensor's method reads its kind. Every job
 * that plans a merge runs them before its tasks, so the masks it reports or applies are the merge's.
 */
public final class SideInputPasses {
  private SideInputPasses() {}

  /** The plan with every side input filled in, and what the manifest reports about them. */
  public record Resolved(MergePlan plan, Map<String, Object> report) {}

  public static Resolved resolve(SparkSession spark, MergePlan planned, int partitions, PrintStream console) throws IOException {
    ImportanceSideInputs.Resolved importances = ImportanceSideInputs.resolve(spark, planned, partitions, console);
    MergePlan plan = GlobalThresholdJob.resolve(spark, importances.plan(), partitions, console);
    return new Resolved(plan, importances.report());
  }
}
