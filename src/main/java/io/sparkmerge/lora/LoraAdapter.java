package io.sparkmerge.lora;

import io.sparkmerge.InputDataException;
import io.sparkmerge.io.ModelDirectory;
import io.sparkmerge.io.TensorInfo;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A PEFT LoRA adapter to add to a model on the fly ({@code model: BASE+ADAPTER}, mergekit's syntax): the
 * headers of its {@code adapter_model.safetensors}, its {@link AdapterConfig}, and for each tensor of the
 * model it changes, how. Keys follow PEFT's saved layout: {@code base_model.model.<module>.lora_A.weight} /
 * {@code lora_B.weight} (a linear module: W += scale·B·A), {@code lora_embedding_A} / {@code lora_embedding_B}
 * (an embedding: W += scale·(B·A)ᵀ), {@code <module>.lora_B.bias} (bias += scale·that), and any other
 * {@code base_model.model.<tensor>} a module stored whole ({@code modules_to_save}: it replaces the tensor).
 * Built on the driver from headers only; shipped to executors with the plan.
 */
public final class LoraAdapter implements Serializable {
  static final String PREFIX = "base_model.model.";

  /** How an adapter changes one model tensor. */
  public enum Kind { LINEAR, EMBEDDING, BIAS, REPLACE }

  /**
   * One changed tensor: for LINEAR/EMBEDDING the adapter's A and B tensors, for BIAS the lora_B bias in {@code b},
   * for REPLACE the stored tensor in {@code a}; {@code scale} multiplies the update.
   */
  public record Change(Kind kind, String a, String b, double scale) implements Serializable {}

  private final String path;
  private final ModelDirectory dir;
  private final AdapterConfig config;
  private final TreeMap<String, Change> changes;

  private LoraAdapter(String path, ModelDirectory dir, AdapterConfig config, TreeMap<String, Change> changes) {
    this.path = path;
    this.dir = dir;
    this.config = config;
    this.changes = changes;
  }

  public String path() {
    return path;
  }

  public ModelDirectory dir() {
    return dir;
  }

  public AdapterConfig config() {
    return config;
  }

  /** The change to a model tensor, or null when the adapter leaves it as it is. */
  public Change change(String tensor) {
    return changes.get(tensor);
  }

  public Map<String, Change> changes() {
    return java.util.Collections.unmodifiableMap(changes);
  }

  /** Opens an adapter directory (adapter_config.json and one .safetensors file) and maps its keys. */
  public static LoraAdapter open(FileSystem fs, String path) throws IOException {
    Path d = new Path(path);
    Path cfgFile = new Path(d, AdapterConfig.FILE);
    if (!fs.exists(cfgFile)) {
      throw new InputDataException(path + ": no " + AdapterConfig.FILE + "; a LoRA reference 'MODEL+ADAPTER' names a PEFT adapter"
          + " directory as its second part");
    }
    AdapterConfig config;
    try (InputStream in = fs.open(cfgFile)) {
      config = AdapterConfig.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), cfgFile.toString());
    }
    ModelDirectory dir = ModelDirectory.open(fs, d);
    return new LoraAdapter(path, dir, config, map(dir, config));
  }

  private static TreeMap<String, Change> map(ModelDirectory dir, AdapterConfig config) {
    Map<String, String[]> pairs = new LinkedHashMap<>(); // module -> {A, B}
    Map<String, Kind> kinds = new LinkedHashMap<>();
    TreeMap<String, Change> out = new TreeMap<>();
    for (String key : dir.tensors().keySet()) {
      if (!key.startsWith(PREFIX)) {
        throw new InputDataException(dir.path() + ": tensor " + key + " is not under '" + PREFIX + "'; is this a PEFT adapter?");
      }
      String rest = key.substring(PREFIX.length());
      String[] suffix = suffix(rest);
      if (suffix == null) {
        if (rest.contains("lora_") || rest.contains("magnitude")) {
          throw new InputDataException(dir.path() + ": tensor " + key + " is not a LoRA tensor sparkmerge can merge (lora_A/lora_B"
              + " weights, lora_embedding_A/B, lora_B.bias, or a whole module)");
        }
        out.put(rest.replace(".modules_to_save.default.", "."), new Change(Kind.REPLACE, key, null, 1));
        continue;
      }
      String module = rest.substring(0, rest.length() - suffix[0].length());
      if (suffix[1].equals("bias")) {
        out.put(module + ".bias", new Change(Kind.BIAS, null, key, config.scale(module)));
        continue;
      }
      kinds.put(module, suffix[1].equals("embedding") ? Kind.EMBEDDING : Kind.LINEAR);
      pairs.computeIfAbsent(module, m -> new String[2])[suffix[2].equals("A") ? 0 : 1] = key;
    }
    pairs.forEach((module, ab) -> {
      if (ab[0] == null || ab[1] == null) {
        throw new InputDataException(dir.path() + ": module " + module + " has lora_" + (ab[0] == null ? "B but no lora_A" : "A but no lora_B")
            + "; the adapter file is incomplete");
      }
      out.put(module + ".weight", new Change(kinds.get(module), ab[0], ab[1], config.scale(module)));
    });
    return out;
  }

  /** {matched suffix, "linear" | "embedding" | "bias", "A" | "B"} of a LoRA key, or null for a whole module. */
  private static String[] suffix(String rest) {
    for (String[] s : new String[][] {{".lora_A.weight", "linear", "A"}, {".lora_B.weight", "linear", "B"},
        {".lora_embedding_A", "embedding", "A"}, {".lora_embedding_B", "embedding", "B"}, {".lora_B.bias", "bias", "B"}}) {
      if (rest.endsWith(s[0])) {
        return s;
      }
    }
    return null;
  }

  /** Checks every change against the model's tensors (names and shapes); {@code ref} names the reference in messages. */
  public void check(ModelDirectory model, String ref) {
    for (Map.Entry<String, Change> e : changes.entrySet()) {
      TensorInfo w = model.tensors().get(e.getKey());
      Change c = e.getValue();
      if (w == null) {
        throw new InputDataException(ref + ": the adapter " + path + " changes " + e.getKey() + ", which the model "
            + model.path() + " does not have; is the adapter for another architecture?");
      }
      long[] want = w.shape();
      if (c.kind() == Kind.REPLACE || c.kind() == Kind.BIAS) {
        long[] got = dir.tensors().get(c.kind() == Kind.REPLACE ? c.a() : c.b()).shape();
        if (!Arrays.equals(got, want)) {
          throw new InputDataException(ref + ": the adapter's " + (c.kind() == Kind.REPLACE ? c.a() : c.b()) + " has shape "
              + Arrays.toString(got) + " but the model's " + e.getKey() + " has " + Arrays.toString(want)
              + " (a resized vocabulary?); merge it with PEFT and give the merged model");
        }
        continue;
      }
      long[] a = dir.tensors().get(c.a()).shape();
      long[] b = dir.tensors().get(c.b()).shape();
      // linear: W [out, in] += B [out, r] · A [r, in]; embedding: W [vocab, dim] += (B [dim, r] · A [r, vocab])ᵀ
      long rows = c.kind() == Kind.LINEAR ? want[0] : want.length == 2 ? want[1] : -1;
      long cols = c.kind() == Kind.LINEAR ? want.length == 2 ? want[1] : -1 : want[0];
      if (want.length != 2 || a.length != 2 || b.length != 2 || a[0] != b[1] || b[0] != rows || a[1] != cols) {
        throw new InputDataException(ref + ": the adapter's " + c.a() + " " + Arrays.toString(a) + " and " + c.b() + " "
            + Arrays.toString(b) + " do not fit the model's " + e.getKey() + " " + Arrays.toString(want));
      }
    }
  }
}
