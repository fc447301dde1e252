package io.sparkmerge.output;

import io.sparkmerge.ConfigException;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.lora.LoraReference;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * An output may never equal, contain or lie inside an input (DESIGN.md §5): otherwise {@code --overwrite}
 * would delete the input, or the output would be written into it. Paths are compared after making them
 * absolute and qualified (scheme and authority: {@code hdfs://nn:8020/x} and {@code /x} on that default
 * FS are the same path), removing {@code .} and {@code ..}, and resolving symbolic links of the part that
 * exists. A violation is a usage error (exit 2) naming both paths.
 */
public final class OverlapRule {
  /** One path a job reads, with what it is for the message ("models[1]", "base_model", "checkpoint ROOT"). */
  public record Input(String kind, String path) {}

  private OverlapRule() {}

  /** Every path a merge config reads: models, base, masks, importance tables, activations, tokenizer source, slice sources. */
  public static List<Input> inputsOf(MergeConfig cfg) {
    List<Input> in = new ArrayList<>();
    if (cfg.baseModel() != null) {
      addModel(in, "base_model", cfg.baseModel());
    }
    for (int i = 0; i < cfg.models().size(); i++) {
      MergeConfig.ModelEntry e = cfg.models().get(i);
      String role = "models[" + i + "]";
      if (e.taskVector()) {
        in.add(new Input(role + " (task vector)", e.path()));
      } else {
        addModel(in, role, e.path());
      }
      if (e.masks() != null) {
        in.add(new Input(role + ".masks", e.masks()));
      }
      if (e.importance() != null && !e.importance().equals("task_vector_norm")) {
        in.add(new Input(role + ".importance", e.importance()));
      }
      if (e.activations() != null) {
        in.add(new Input(role + ".activations", e.activations()));
      }
    }
    if (cfg.hasSlices()) {
      for (int s = 0; s < cfg.slices().size(); s++) {
        for (MergeConfig.SliceSource src : cfg.slices().get(s).sources()) {
          addModel(in, "slices[" + s + "] source", src.path());
        }
      }
    }
    addPath(in, "tokenizer_source", cfg.tokenizerSource());
    if (cfg.tokenizer() != null) {
      addPath(in, "tokenizer.source", cfg.tokenizer().source());
      cfg.tokenizer().tokens().forEach((token, e) -> addPath(in, "tokenizer.tokens." + token + ".model", e.model()));
    }
    return in;
  }

  /**
   * A model reference: MODEL, or {@code MODEL+ADAPTER} (mergekit's LoRA syntax), whose model directory and
   * adapter directory are both inputs.
   */
  public static void addModel(List<Input> in, String kind, String ref) {
    String adapter = LoraReference.adapterPath(ref, kind);
    in.add(new Input(kind, LoraReference.modelPath(ref)));
    if (adapter != null) {
      in.add(new Input(kind + " adapter", adapter));
    }
  }

  /** A tokenizer or embedding source that names a model path ("base" and "union" are not paths). */
  private static void addPath(List<Input> in, String kind, String value) {
    if (value != null && !value.equals("base") && !value.equals("union") && in.stream().noneMatch(i -> i.path().equals(value))) {
      in.add(new Input(kind, value));
    }
  }

  /** Fails with exit 2 when an output equals, contains or lies inside an input, or is a filesystem root. */
  public static void check(Configuration conf, List<Path> outputs, List<Input> inputs) {
    for (Path out : outputs) {
      URI o = resolve(conf, out, "output");
      if (o.getPath() == null || o.getPath().equals("/") || o.getPath().isEmpty()) {
        throw new ConfigException("output " + out + " is the root of its filesystem; give a directory below it");
      }
      for (Input in : inputs) {
        URI i = resolve(conf, new Path(in.path()), in.kind());
        String how = equal(o, i) ? "is the same path as" : inside(o, i) ? "lies inside" : inside(i, o) ? "contains" : null;
        if (how != null) {
          throw new ConfigException("output " + out + " " + how + " the input " + in.kind() + " " + in.path()
              + (o.toString().equals(out.toString()) && i.toString().equals(in.path()) ? "" : " (resolved: " + o + " vs " + i + ")")
              + "; an output may never overlap an input (--overwrite would delete it): choose an output path outside every input");
        }
      }
    }
  }

  /** The absolute, qualified, normalised path with the symbolic links of its existing part resolved. */
  static URI resolve(Configuration conf, Path p, String what) {
    try {
      if (p.toString().isEmpty()) {
        throw new ConfigException(what + ": the path is empty");
      }
      FileSystem fs = p.getFileSystem(conf);
      Path q = fs.makeQualified(p);
      // the longest existing ancestor is resolved; the rest (not created yet) cannot hold links
      Path existing = q;
      List<String> rest = new ArrayList<>();
      while (existing != null && !fs.exists(existing)) {
        rest.add(0, existing.getName());
        existing = existing.getParent();
      }
      Path resolved = existing == null ? q : realPath(fs, existing);
      for (String name : rest) {
        resolved = new Path(resolved, name);
      }
      return resolved.toUri().normalize();
    } catch (IOException e) {
      throw new ConfigException(what + ": cannot resolve the path " + p + " (" + e.getMessage() + ")");
    } catch (IllegalArgumentException e) {
      throw new ConfigException(what + ": " + p + " is not a valid path (" + e.getMessage() + ")");
    }
  }

  private static Path realPath(FileSystem fs, Path p) throws IOException {
    if ("file".equals(p.toUri().getScheme())) {
      return new Path(Paths.get(p.toUri()).toRealPath().toUri());
    }
    try {
      return fs.makeQualified(fs.resolvePath(p));
    } catch (UnsupportedOperationException e) {
      return p;
    }
  }

  private static boolean sameRoot(URI a, URI b) {
    return lower(a.getScheme()).equals(lower(b.getScheme())) && lower(a.getAuthority()).equals(lower(b.getAuthority()));
  }

  private static String lower(String s) {
    return s == null ? "" : s.toLowerCase(Locale.ROOT);
  }

  private static String dir(URI u) {
    String p = u.getPath();
    return p.endsWith("/") ? p : p + "/";
  }

  static boolean equal(URI a, URI b) {
    return sameRoot(a, b) && dir(a).equals(dir(b));
  }

  /** Whether a lies strictly inside b. */
  static boolean inside(URI a, URI b) {
    return sameRoot(a, b) && !equal(a, b) && dir(a).startsWith(dir(b));
  }

}
