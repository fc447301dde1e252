package io.sparkmerge.lora;

import io.sparkmerge.InputDataException;
import io.sparkmerge.io.ModelDirectory;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.vocab.EmbeddingRows;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * What {@code extract-lora} does with each module of the fine-tuned model, decided on the driver from headers,
 * as mergekit-extract-lora decides it (scripts/extract_lora.py plan_extraction), with names instead of torch
 * module types: a 2-D {@code <module>.weight} is a linear module, factored (LINEAR: lora_A / lora_B); an input
 * embedding is factored transposed (EMBEDDING: lora_embedding_A / B) with {@code embedLora}, else stored whole,
 * as are output heads (lm_head is a linear module to PEFT, factored with {@code embedLora}); every other module
 * with a weight (norms, convolutions) is stored whole (WHOLE, PEFT's modules_to_save). A factored module's bias
 * becomes τ of the bias in {@code lora_B.bias}; a whole module's bias is stored whole. Embeddings whose vocabulary
 * differs from the base's are stored whole whatever {@code embedLora} says (their τ is undefined).
 * Modules whose name the {@code modules} regex does not find are left out.
 */
public record ExtractionPlan(List<Module> modules, List<String> skipped) implements Serializable {
  /** How a module goes into the adapter. */
  public enum Kind { LINEAR, EMBEDDING, WHOLE }

  /** One module: its weight tensor, its bias tensor or null, and its weight's shape. */
  public record Module(String name, Kind kind, String weight, String bias, long[] shape) implements Serializable {
    /** The last component of the module's name: what PEFT's target_modules and modules_to_save match. */
    public String key() {
      return name.substring(name.lastIndexOf('.') + 1);
    }
  }

  private static final Pattern INPUT_EMBEDDING = Pattern.compile("(^|\\.)(embed_tokens|wte|word_embeddings|embed_in)\\.weight$");

  /** @param modules a regex searched in module names (null: every module) */
  public static ExtractionPlan of(ModelDirectory base, ModelDirectory model, String modules, boolean embedLora) {
    Pattern filter = modules == null ? null : Pattern.compile(modules);
    List<Module> out = new ArrayList<>();
    TreeSet<String> skipped = new TreeSet<>(model.tensors().keySet());
    for (TensorInfo w : model.tensors().values()) {
      String name = w.name();
      if (!name.endsWith(".weight") || !w.dtype().isFloating()) {
        continue;
      }
      String module = name.substring(0, name.length() - ".weight".length());
      if (filter != null && !filter.matcher(module).find()) {
        continue;
      }
      TensorInfo b = model.tensors().get(module + ".bias");
      String bias = b != null && b.dtype().isFloating() ? b.name() : null;
      Kind kind = kind(name, w.shape(), embedLora);
      if (kind != Kind.WHOLE) {
        TensorInfo bw = base.tensors().get(name);
        boolean embedding = EmbeddingRows.isEmbedding(name, w.shape());
        if (bw == null || (!embedding && !Arrays.equals(bw.shape(), w.shape()))) {
          throw new InputDataException(base.path() + ": the base has " + (bw == null ? "no tensor " + name
              : name + " of shape " + Arrays.toString(bw.shape())) + " but the model " + model.path() + " has "
              + Arrays.toString(w.shape()) + "; is the base the model's base? (--modules REGEX leaves modules out)");
        }
        if (embedding && !Arrays.equals(bw.shape(), w.shape())) {
          kind = Kind.WHOLE; // a resized vocabulary: mergekit stores the embeddings whole too
        } else if (bias != null && !sameShape(base, model, bias)) {
          throw new InputDataException(base.path() + ": the base's " + bias + " differs in shape from the model's");
        }
      }
      out.add(new Module(module, kind, name, bias, w.shape()));
      skipped.remove(name);
      if (bias != null) {
        skipped.remove(bias);
      }
    }
    if (out.stream().noneMatch(m -> m.kind() != Kind.WHOLE)) {
      throw new InputDataException(model.path() + ": no module to factor" + (modules == null ? "" : " matches --modules '" + modules
          + "'") + "; a LoRA needs 2-D '<module>.weight' tensors");
    }
    return new ExtractionPlan(List.copyOf(out), List.copyOf(skipped));
  }

  private static Kind kind(String name, long[] shape, boolean embedLora) {
    if (shape.length != 2) {
      return Kind.WHOLE;
    }
    if (EmbeddingRows.isEmbedding(name, shape)) {
      return !embedLora ? Kind.WHOLE : INPUT_EMBEDDING.matcher(name).find() ? Kind.EMBEDDING : Kind.LINEAR;
    }
    return Kind.LINEAR;
  }

  private static boolean sameShape(ModelDirectory base, ModelDirectory model, String tensor) {
    TensorInfo b = base.tensors().get(tensor);
    return b != null && Arrays.equals(b.shape(), model.tensors().get(tensor).shape());
  }
}
