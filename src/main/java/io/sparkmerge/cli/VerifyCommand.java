package io.sparkmerge.cli;

import io.sparkmerge.InputDataException;
import io.sparkmerge.output.OutputVerifier;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.hadoop.fs.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(mixinStandardHelpOptions = true, name = "verify",
    description = {"Check a merge output against its manifest (sparkmerge.json): _SUCCESS, every file's presence, size and "
        + "digest, every shard's header and every tensor's SHA-256, the index. Reads all of OUT, writes nothing.",
        "Exit 0 with a one-line summary when OUT matches; exit 3 listing what is missing or different otherwise."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:OUT matches its manifest", "1:anything else, e.g. a read error (--verbose prints the stack trace)",
        "2:bad usage (--threads below 1)", "3:OUT is missing, is not a merge output, or differs from its manifest (each "
        + "difference on its own line)"},
    footer = {"", "Examples:", "  sparkmerge verify /data/merged", "  sparkmerge verify hdfs:///out/merged --threads 8",
        "  sparkmerge verify s3a://models/merged --conf spark.hadoop.fs.s3a.endpoint=http://minio:9000"})
final class VerifyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "OUT", description = "a merge output directory (local path, hdfs://, s3a://)")
  String out;

  @Option(names = "--threads", description = "shards read and hashed at once (default 4)")
  int threads = 4;

  @picocli.CommandLine.Mixin SparkSessions.HadoopOptions hadoopOptions;

  @Override
  public Integer call() throws IOException {
    if (threads < 1) {
      throw new io.sparkmerge.ConfigException("--threads must be at least 1, got " + threads);
    }
    Path dir = new Path(out);
    long t0 = System.nanoTime();
    OutputVerifier.Result r = OutputVerifier.verify(dir.getFileSystem(hadoopOptions.hadoop()), dir, threads);
    PrintWriter console = spec.commandLine().getOut();
    if (!r.problems().isEmpty()) {
      r.problems().forEach(p -> console.println("  " + p));
      console.flush();
      throw new InputDataException(out + " does not match its manifest: " + r.problems().size() + " problem(s), first: "
          + r.problems().get(0) + "; run the merge again (--overwrite) or restore OUT from a good copy");
    }
    console.println(String.format(Locale.ROOT, "%s: ok: %d files, %d tensors, %.3f GB of tensor data match sparkmerge.json (run %s) in %.1f s",
        out, r.files(), r.tensors(), r.bytes() / 1e9, r.runId(), (System.nanoTime() - t0) / 1e9));
    return 0;
  }
}
