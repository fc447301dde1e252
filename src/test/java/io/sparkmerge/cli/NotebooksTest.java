package io.sparkmerge.cli;

import io.sparkmerge.config.ConfigLoader;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.job.SubspacesJob;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The notebooks under notebooks/ execute with {@code jupyter nbconvert --execute} against a generated
 * analysis output (real subspaces tables, stats and masks tables in the brief's schemas) and plot.
 * Skipped when jupyter or pandas/matplotlib are not installed (see README: apt-get install ...).
 */
class NotebooksTest {
  @TempDir Path work;

  static String run(Path dir, List<String> cmd, String dataDir, long timeoutS) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
    if (dataDir != null) {
      pb.environment().put("SPARKMERGE_DATA", dataDir);
    }
    pb.environment().remove("MPLBACKEND");   // the kernel's inline backend embeds the PNGs in the notebook
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return "timeout\n" + out;
    }
    return p.exitValue() + "\n" + out;
  }

  static boolean available(Path dir) {
    try {
      return run(dir, List.of("jupyter", "nbconvert", "--version"), null, 60).startsWith("0\n")
          && run(dir, List.of("/usr/bin/python3", "-c", "import pandas, matplotlib, ipykernel"), null, 60).startsWith("0\n");
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  /** The committed notebooks are executed (docs/img/make.sh): a reader sees the plots without running anything. */
  @Test
  void committedNotebooksCarryTheirPlots() throws IOException {
    for (String nb : List.of("scope_mismatch", "spectra_overlap", "mask_overlap")) {
      String book = Files.readString(Path.of("notebooks", nb + ".ipynb"));
      assertTrue(book.contains("\"image/png\""), nb + ": executed, with its plots");
      assertTrue(!book.contains("\"execution_count\": null"), nb + ": every code cell ran");
      assertEquals(-1, book.indexOf("\"output_type\": \"error\""), nb + " has no error output");
      assertTrue(!book.contains("not in /"), nb + " found all its tables");
    }
    // the report's model names (ft-1, ft-2 of the generated family), not the tables' model0/model1
    String overlap = Files.readString(Path.of("notebooks", "spectra_overlap.ipynb"));
    assertTrue(overlap.contains("ft-1 × ft-2"), "spectra_overlap names the models as the report does");
  }

  @Test
  void notebooksExecuteAgainstAGeneratedOutput() throws Exception {
    Assumptions.assumeTrue(available(work), "jupyter nbconvert with pandas and matplotlib is not installed; to run this test: "
        + "apt-get install -y jupyter-nbconvert python3-pandas python3-matplotlib python3-ipykernel");
    List<org.apache.hadoop.fs.Path> dirs = Checkpoints.tinyFamily(work.resolve("family"), 5, 2);
    String data = work.resolve("analysis").toString();
    SubspacesJob.run(SparkTestSession.get(), ConfigLoader.parse("merge_method: ties\nbase_model: " + dirs.get(0) + "\nmodels: ["
        + dirs.get(1) + ", " + dirs.get(2) + "]\n", "nb.yml"),
        new SubspacesJob.Options(data, false, 8, 2, "layers.0.", 0, new PrintStream(new ByteArrayOutputStream())));
    ReportTest.writeStatsAndMasks(Path.of(data), dirs);
    Path executed = Files.createDirectories(work.resolve("executed"));
    List<String> books = List.of("scope_mismatch", "spectra_overlap", "mask_overlap");
    List<String> cmd = new java.util.ArrayList<>(List.of("jupyter", "nbconvert", "--to", "notebook", "--execute",
        "--ExecutePreprocessor.timeout=300", "--output-dir", executed.toString()));
    books.forEach(nb -> cmd.add(Path.of("notebooks", nb + ".ipynb").toAbsolutePath().toString()));
    String r = run(work, cmd, data, 900);   // one nbconvert for all three: one Python start-up
    assertTrue(r.startsWith("0\n"), "nbconvert failed:\n" + r);
    for (String nb : books) {
      String out = Files.readString(executed.resolve(nb + ".ipynb"));
      assertTrue(out.contains("\"image/png\""), nb + " plots");
      assertTrue(!out.contains("not in " + data), nb + " found all its tables");
      assertEquals(-1, out.indexOf("\"output_type\": \"error\""), nb + " has no error output");
    }
  }
}
