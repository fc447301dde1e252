package io.sparkmerge.cli;

import io.sparkmerge.output.OutputLifecycle;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(mixinStandardHelpOptions = true, name = "recover",
    description = {"Finish the publish of OUT that a killed run left unfinished (its journal in OUT's work directory "
        + ".<name>.sparkmerge/ beside OUT), so OUT holds the complete new output; or say there is nothing to do. Exits 4 "
        + "while a live run holds OUT's lock. Any later run into OUT does the same first; this command is for readers "
        + "that want OUT whole without starting a run.",
        "Unfinished runs kept for 'merge --resume' stay; on an object store, their pending multipart uploads are aborted "
            + "(a --resume then recomputes those shards)."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:OUT recovered, or nothing to recover", "1:anything else, e.g. a publish that cannot be finished "
        + "(--verbose prints the stack trace)", "2:bad usage (OUT missing or empty)", "4:a live run holds OUT's lock (it is writing OUT)"},
    footer = {"", "Examples:", "  sparkmerge recover /data/merged", "  sparkmerge recover hdfs:///models/wsm/step-4000",
        "  sparkmerge recover s3a://models/merged --conf spark.hadoop.fs.s3a.endpoint=http://minio:9000"})
final class RecoverCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "OUT", description = "the output directory (or scopes' OUT.json) to recover")
  String out;

  @picocli.CommandLine.Mixin SparkSessions.HadoopOptions hadoopOptions;

  @Override
  public Integer call() throws IOException {
    if (out.isBlank()) {
      throw new io.sparkmerge.ConfigException("recover: the output path is empty");
    }
    spec.commandLine().getOut().println(OutputLifecycle.recover(hadoopOptions.hadoop(), out, OutputLifecycle.Settings.DEFAULT));
    return 0;
  }
}
