package io.sparkmerge.plan;

import io.sparkmerge.ConfigException;
import io.sparkmerge.InputDataException;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.io.ModelDirectory;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.lora.LoraAdapter;
import io.sparkmerge.lora.LoraReference;
import io.sparkmerge.vocab.EmbeddingRows;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** Opens the models a config names (headers only) and checks that they match. */
final class ModelOpener {
  private final Configuration hadoopConf;
  private HeaderReadAhead ahead = HeaderReadAhead.none();

  ModelOpener(Configuration hadoopConf) {
    this.hadoopConf = hadoopConf;
  }

  /** Starts reading the headers {@code cfg} names on a small pool; the opens below take them in config order. */
  void readAhead(MergeConfig cfg) {
    ahead = new HeaderReadAhead(hadoopConf, HeaderReadAhead.paths(cfg));
  }

  /** The validated headers of the model directory at {@code path}; {@code key} names it in errors. */
  ModelDirectory open(String path, String key) {
    ModelDirectory read = ahead.take(path);
    if (read != null) {
      return read;
    }
    try {
      Path p = new Path(path);
      FileSystem fs = p.getFileSystem(hadoopConf);
      if (!fs.exists(p)) {
        throw new ConfigException(key + ": model path '" + path + "' does not exist; check the path in the config");
      }
      return ModelDirectory.open(fs, p);
    } catch (FileNotFoundException e) {
      throw new ConfigException(key + ": model path '" + path + "' does not exist; check the path in the config", e);
    } catch (IOException e) {
      throw new UncheckedIOException(key + ": cannot read model '" + path + "': " + e.getMessage(), e);
    }
  }

  /** The configured base model, or null. */
  InputModel base(String path) {
    return path == null ? null : model(path, "base_model", d -> InputModel.base(path, d));
  }

  /**
   * A model reference: a directory, or MODEL+ADAPTER (mergekit's syntax): {@code make} of MODEL's headers with the
   * PEFT LoRA adapter added on the fly, checked against MODEL's tensors; {@code key} names it in errors.
   */
  InputModel model(String ref, String key, Function<ModelDirectory, InputModel> make) {
    String adapter = LoraReference.adapterPath(ref, key);
    ModelDirectory dir = open(LoraReference.modelPath(ref), key);
    InputModel m = make.apply(dir);
    if (adapter == null) {
      return m;
    }
    LoraAdapter lora;
    try {
      Path p = new Path(adapter);
      FileSystem fs = p.getFileSystem(hadoopConf);
      if (!fs.exists(p)) {
        throw new ConfigException(key + ": LoRA adapter path '" + adapter + "' (in '" + ref + "') does not exist; check the path");
      }
      lora = LoraAdapter.open(fs, adapter);
    } catch (IOException e) {
      throw new UncheckedIOException(key + ": cannot read the LoRA adapter '" + adapter + "': " + e.getMessage(), e);
    }
    lora.check(dir, key + " (" + ref + ")");
    return m.withLora(lora);
  }

  /**
   * Every model must have the reference's tensor names and shapes; the error names the model and the first differences.
   * embeddingRowsMayDiffer: a vocabulary change permutes the embedding matrices, so only their row length must match.
   */
  static void checkCompatible(InputModel reference, InputModel base, List<InputModel> models, boolean embeddingRowsMayDiffer) {
    List<InputModel> all = new ArrayList<>();
    if (base != null && base != reference) {
      all.add(base);
    }
    all.addAll(models);
    Map<String, TensorInfo> ref = reference.dir().tensors();
    for (InputModel m : all) {
      if (m == reference) {
        continue;
      }
      Map<String, TensorInfo> other = m.dir().tensors();
      List<String> missing = new ArrayList<>();
      List<String> extra = new ArrayList<>();
      List<String> shape = new ArrayList<>();
      List<String> dtype = new ArrayList<>();
      for (TensorInfo t : ref.values()) {
        TensorInfo o = other.get(t.name());
        if (o == null) {
          missing.add(t.name());
        } else if (!Arrays.equals(o.shape(), t.shape()) && !(embeddingRowsMayDiffer && EmbeddingRows.isEmbedding(t.name(),
            t.shape()) && o.shape().length == 2 && o.shape()[1] == t.shape()[1])) {
          shape.add(t.name() + " " + t.shapeString() + " vs " + o.shapeString());
        } else if (o.dtype() != t.dtype() && !(o.dtype().isFloating() && t.dtype().isFloating())) {
          // an integer/bool tensor is copied from one model: a model holding other values there is another checkpoint
          dtype.add(t.name() + " " + t.dtype() + " vs " + o.dtype());
        }
      }
      for (String n : other.keySet()) {
        if (!ref.containsKey(n)) {
          extra.add(n);
        }
      }
      if (!missing.isEmpty() || !extra.isEmpty() || !shape.isEmpty() || !dtype.isEmpty()) {
        StringBuilder sb = new StringBuilder(m.role() + " (" + m.path() + ") does not match " + reference.role() + " ("
            + reference.path() + "):");
        if (!missing.isEmpty()) {
          sb.append(" missing tensors ").append(first(missing));
        }
        if (!extra.isEmpty()) {
          sb.append(" extra tensors ").append(first(extra));
        }
        if (!shape.isEmpty()) {
          sb.append(" different shapes ").append(first(shape));
        }
        if (!dtype.isEmpty()) {
          sb.append(" different dtypes ").append(first(dtype));
        }
        throw new InputDataException(sb.append("; merge only checkpoints of one architecture").toString());
      }
    }
  }

  private static String first(List<String> names) {
    int n = Math.min(3, names.size());
    String s = String.join(", ", names.subList(0, n));
    return names.size() > n ? s + " (and " + (names.size() - n) + " more)" : s;
  }
}
