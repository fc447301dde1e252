package io.sparkmerge.cli;

import io.sparkmerge.OutputExistsException;
import io.sparkmerge.synth.FamilyPreset;
import io.sparkmerge.synth.ModelFamilyGenerator;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(mixinStandardHelpOptions = true, name = "synth", description = "Generate a model family (OUT/base, OUT/ft-1..N) for trying things out.",
    footer = {"", "Examples:", "  sparkmerge synth /tmp/family --family tiny --fine-tunes 2", "  sparkmerge synth /data/family-1b --family 1b --shard-size 1GB"})
final class SynthCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "OUT")
  String out;

  @Option(names = "--family", description = "tiny (~1 MB), small (~60 MB), medium (~270 MB) or 1b (~2.5 GB per model, BF16); default tiny")
  String family = "tiny";

  @Option(names = "--fine-tunes", description = "number of fine-tuned models (default 3)")
  int fineTunes = 3;

  @Option(names = "--seed", description = "generator seed (default 1)")
  long seed = 1;

  @Option(names = "--shard-size", paramLabel = "SIZE", description = "largest safetensors file, e.g. 1GB (default 5GB, as out_shard_size:"
      + " a model that fits is one model.safetensors, as mergekit and transformers write it)")
  String shardSize = "5GB";

  @Override
  public Integer call() throws IOException {
    Path root = new Path(out);
    FileSystem fs = root.getFileSystem(io.sparkmerge.io.Storage.configuration());
    if (fs.exists(root) && fs.listStatus(root).length > 0) {
      throw new OutputExistsException(out + " exists and is not empty; choose another directory");
    }
    FamilyPreset preset = FamilyPreset.of(family);
    long t0 = System.currentTimeMillis();
    long shardBytes = io.sparkmerge.config.ConfigLoader.parseSize(shardSize, "--shard-size");
    List<Path> dirs = new ModelFamilyGenerator(preset, seed, shardBytes).generate(fs, root, fineTunes);
    spec.commandLine().getOut().printf(Locale.ROOT, "wrote %s family (%d parameters per model, %s) in %.1fs: %s%n",
        preset.name(), preset.parameterCount(), preset.dtype(), (System.currentTimeMillis() - t0) / 1e3, dirs);
    return 0;
  }
}
