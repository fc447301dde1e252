package io.sparkmerge.output;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmerge.InputDataException;
import io.sparkmerge.io.DType;
import java.io.IOException;
import java.util.List;

/**
 * The output's config.json, rewritten from the donor's where the merge changed the model (as mergekit's
 * {@code _model_out_config} does): the layer count after slicing, the dtype the tensors are written in
 * ({@code torch_dtype} and transformers' newer {@code dtype} key), and the vocabulary size after a
 * tokenizer merge.
 */
final class ConfigJson {
  /** The config.json keys that hold the layer count in HF configs (LLaMA-likes, GPT-2, others). */
  private static final List<String> LAYER_KEYS = List.of("num_hidden_layers", "n_layer", "num_layers");
  private static final ObjectMapper JSON = new ObjectMapper();

  private ConfigJson() {}

  /**
   * @param layers the output's layer count, or -1 to leave it
   * @param dtype the dtype every floating tensor is written in, or null to leave the donor's
   * @param vocabSize the output's vocabulary (embedding rows), or -1 to leave it
   */
  static String rewrite(String json, String file, int layers, DType dtype, long vocabSize) throws IOException {
    ObjectNode c = object(json, file);
    if (layers >= 0) {
      for (String k : LAYER_KEYS) {
        if (c.has(k)) {
          c.put(k, layers);
        }
      }
    }
    if (dtype != null) {
      c.put("torch_dtype", torchName(dtype));
      c.put("dtype", torchName(dtype));
    }
    if (vocabSize >= 0) {
      c.put("vocab_size", vocabSize);
    }
    return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(c) + "\n";
  }

  /** The name transformers writes for a dtype ("bfloat16", "float16", "float32", "float64"). */
  static String torchName(DType d) {
    return switch (d) {
      case BF16 -> "bfloat16";
      case F16 -> "float16";
      case F32 -> "float32";
      case F64 -> "float64";
      default -> throw new IllegalArgumentException("not a floating dtype: " + d);
    };
  }

  static ObjectNode object(String json, String file) {
    try {
      if (JSON.readTree(json) instanceof ObjectNode o) {
        return o;
      }
    } catch (IOException e) {
      // reported below with the file name
    }
    throw new InputDataException(file + ": not a JSON object; fix the file or leave it out of 'copy:'");
  }
}
