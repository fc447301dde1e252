package io.sparkmerge.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.config.ConfigLoader;
import io.sparkmerge.math.LinearAlgebra;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CUDA backend's code path (ND4J's lapack wrapper, {@code -Dsparkmerge.linalg=nd4j}) through the
 * real Spark merge job on the CPU backend: iso_cts and tsv_m agree with the LAPACKE path (checked
 * against independent references in SubspaceMergeJobTest) within the GPU check's 1e-4 per tensor.
 */
class GpuCodePathJobTest {
  @TempDir static Path family;
  @TempDir Path work;

  private Map<String, double[]> merge(List<org.apache.hadoop.fs.Path> dirs, String method, String linalg) throws IOException {
    StringBuilder yaml = new StringBuilder("merge_method: " + method + "\nbase_model: " + dirs.get(0) + "\nmodels:\n");
    for (int i = 1; i < dirs.size(); i++) {
      yaml.append("  - model: ").append(dirs.get(i)).append('\n');
    }
    yaml.append("compute_dtype: float32\n");
    String out = work.resolve(method + "-" + linalg).toString();
    String before = System.getProperty(LinearAlgebra.PROPERTY);
    System.setProperty(LinearAlgebra.PROPERTY, linalg); // local mode: the executors read it in this JVM
    try {
      MergeJob.run(SparkTestSession.get(), ConfigLoader.parse(yaml.toString(), method + ".yml"),
          new MergeJob.Options(out, false, 2, new PrintStream(new ByteArrayOutputStream())));
    } finally {
      if (before == null) {
        System.clearProperty(LinearAlgebra.PROPERTY);
      } else {
        System.setProperty(LinearAlgebra.PROPERTY, before);
      }
    }
    return Checkpoints.read(out);
  }

  @Test
  void isoCtsAndTsvMThroughSparkAgreeWithTheLapackePath() throws IOException {
    List<org.apache.hadoop.fs.Path> dirs = Checkpoints.tinyFamily(family, 21, 3);
    for (String method : new String[] {"iso_cts", "tsv_m"}) {
      Map<String, double[]> cpu = merge(dirs, method, "lapacke");
      Map<String, double[]> gpuPath = merge(dirs, method, "nd4j");
      assertEquals(cpu.keySet(), gpuPath.keySet());
      for (String name : cpu.keySet()) {
        double err = Checkpoints.relError(gpuPath.get(name), cpu.get(name));
        assertTrue(err <= 1e-4, method + " " + name + ": " + err);
      }
    }
  }
}
