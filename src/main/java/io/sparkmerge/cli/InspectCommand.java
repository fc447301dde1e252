package io.sparkmerge.cli;

import io.sparkmerge.InputDataException;
import io.sparkmerge.Messages;
import io.sparkmerge.io.ModelDirectory;
import io.sparkmerge.io.TensorInfo;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(mixinStandardHelpOptions = true, name = "inspect", description = "List tensors, dtypes, shapes, sizes and shards; with several models, check they can be merged.",
    footer = {"", "Examples:", "  sparkmerge inspect /models/base", "  sparkmerge inspect hdfs:///models/base hdfs:///models/ft-math --summary"})
final class InspectCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(arity = "1..*", paramLabel = "MODEL", description = "model directories")
  List<String> models;

  @Option(names = "--summary", description = "only the per-model totals and the compatibility verdict")
  boolean summary;

  @picocli.CommandLine.Mixin SparkSessions.HadoopOptions hadoopOptions;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    Configuration conf = hadoopOptions.hadoop();
    List<ModelDirectory> dirs = new ArrayList<>();
    for (String m : models) {
      Path p = new Path(m);
      ModelDirectory d = ModelDirectory.open(p.getFileSystem(conf), p);
      dirs.add(d);
      long params = 0;
      for (TensorInfo t : d.tensors().values()) {
        params += t.numel();
      }
      out.printf(Locale.ROOT, "%s: %d tensors, %d parameters, %.3f GB in %d file(s)%n", m, d.tensors().size(), params,
          d.totalBytes() / 1e9, d.shardFiles().size());
      if (!summary && dirs.size() == 1) {
        for (TensorInfo t : d.tensors().values()) {
          // names come from the file: terminal escapes in them are shown, never sent to the terminal
          out.printf(Locale.ROOT, "  %-60s %-5s %-20s %12d bytes  %s%n", Messages.printable(t.name()), t.dtype(),
              Arrays.toString(t.shape()), t.byteLength(), Messages.printable(new Path(d.fileOf(t.name())).getName()));
        }
      }
    }
    if (dirs.size() > 1) {
      Map<String, TensorInfo> ref = dirs.get(0).tensors();
      boolean ok = true;
      for (int i = 1; i < dirs.size(); i++) {
        Map<String, TensorInfo> o = dirs.get(i).tensors();
        List<String> diffs = new ArrayList<>();
        for (TensorInfo t : ref.values()) {
          TensorInfo x = o.get(t.name());
          if (x == null) {
            diffs.add("missing " + Messages.printable(t.name()));
          } else if (!Arrays.equals(x.shape(), t.shape())) {
            diffs.add(Messages.printable(t.name()) + " " + t.shapeString() + " vs " + x.shapeString());
          }
        }
        for (String n : o.keySet()) {
          if (!ref.containsKey(n)) {
            diffs.add("extra " + Messages.printable(n));
          }
        }
        if (!diffs.isEmpty()) {
          ok = false;
          out.printf("%s is NOT compatible with %s: %s%s%n", models.get(i), models.get(0),
              String.join("; ", diffs.subList(0, Math.min(5, diffs.size()))), diffs.size() > 5 ? " ..." : "");
        }
      }
      if (!ok) {
        throw new InputDataException("the models differ in tensor names or shapes (see above); merge only checkpoints of one architecture");
      }
      out.println("compatible: all " + dirs.size() + " models have the same " + ref.size() + " tensor names and shapes");
    }
    return 0;
  }
}
