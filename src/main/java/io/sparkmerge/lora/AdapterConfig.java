package io.sparkmerge.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmerge.InputDataException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * PEFT's {@code adapter_config.json} of a LoRA adapter, the part that decides the weights: the rank r and
 * lora_alpha, per-module exceptions ({@code rank_pattern}, {@code alpha_pattern}), rsLoRA, and whether lora_B
 * carries a bias. A module's update is scale·B·A with scale = alpha / r (alpha / √r with {@code use_rslora}),
 * alpha and r taken from the first pattern key that matches the module's name as PEFT matches it
 * ({@code (.*\.)?(KEY)$}, peft/utils/other.py get_pattern_key).
 */
public record AdapterConfig(int r, double alpha, Map<String, Integer> rankPattern, Map<String, Double> alphaPattern,
    boolean rslora, boolean loraBias) implements Serializable {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** The file name PEFT reads. */
  public static final String FILE = "adapter_config.json";

  /** The rank of a module (rank_pattern, else r). */
  public int rank(String module) {
    String key = patternKey(rankPattern.keySet(), module);
    return key == null ? r : rankPattern.get(key);
  }

  /** The factor PEFT applies to B·A of a module. */
  public double scale(String module) {
    String key = patternKey(alphaPattern.keySet(), module);
    double a = key == null ? alpha : alphaPattern.get(key);
    int rank = rank(module);
    return rslora ? a / Math.sqrt(rank) : a / rank;
  }

  private static String patternKey(Iterable<String> keys, String module) {
    for (String k : keys) {
      if (Pattern.compile("(.*\\.)?(" + k + ")").matcher(module).matches()) {
        return k;
      }
    }
    return null;
  }

  /** Reads the settings that change weights; refuses what sparkmerge cannot merge (DoRA, fan_in_fan_out, other PEFT types). */
  public static AdapterConfig parse(String json, String file) {
    JsonNode n;
    try {
      n = JSON.readTree(json);
    } catch (Exception e) {
      throw new InputDataException(file + ": not valid JSON (" + e.getMessage() + "); is this a PEFT adapter's " + FILE + "?");
    }
    String type = n.path("peft_type").asText("LORA");
    if (!type.equals("LORA")) {
      throw new InputDataException(file + ": peft_type " + type + "; only LoRA adapters (peft_type LORA) can be merged into a model");
    }
    for (String unsupported : List.of("use_dora", "fan_in_fan_out")) {
      if (n.path(unsupported).asBoolean(false)) {
        throw new InputDataException(file + ": " + unsupported + " is true, which sparkmerge does not merge; merge the adapter"
            + " with PEFT (merge_and_unload) and give the merged model instead");
      }
    }
    if (!n.path("r").canConvertToInt() || n.path("r").asInt() <= 0) {
      throw new InputDataException(file + ": 'r' (the LoRA rank) is missing or not a positive integer");
    }
    int r = n.path("r").asInt();
    Map<String, Integer> ranks = new LinkedHashMap<>();
    n.path("rank_pattern").fields().forEachRemaining(e -> ranks.put(e.getKey(), e.getValue().asInt()));
    Map<String, Double> alphas = new LinkedHashMap<>();
    n.path("alpha_pattern").fields().forEachRemaining(e -> alphas.put(e.getKey(), e.getValue().asDouble()));
    return new AdapterConfig(r, n.path("lora_alpha").asDouble(8), ranks, alphas, n.path("use_rslora").asBoolean(false),
        n.path("lora_bias").asBoolean(false));
  }

  /**
   * The file extract-lora writes, with mergekit-extract-lora's settings: lora_alpha = r, so every scale is 1;
   * modules of a lower rank (smaller than r in one dimension) listed in rank_pattern and alpha_pattern.
   *
   * @param moduleRanks every LoRA module's rank
   * @param targetModules the last name components of the LoRA modules (PEFT wraps modules whose names end so)
   * @param modulesToSave the last name components of the modules stored whole
   */
  public static String write(String baseModel, Map<String, Integer> moduleRanks, List<String> targetModules,
      List<String> modulesToSave, boolean loraBias) {
    int r = moduleRanks.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    ObjectNode o = JSON.createObjectNode();
    o.put("base_model_name_or_path", baseModel);
    o.put("peft_type", "LORA");
    o.put("task_type", "CAUSAL_LM");
    o.put("r", r);
    o.put("lora_alpha", r);
    o.put("use_rslora", false);
    o.putPOJO("target_modules", new ArrayList<>(targetModules));
    o.putPOJO("modules_to_save", new ArrayList<>(modulesToSave));
    ObjectNode ranks = o.putObject("rank_pattern");
    ObjectNode alphas = o.putObject("alpha_pattern");
    moduleRanks.forEach((m, k) -> {
      if (k != r) {
        ranks.put(m, k);
        alphas.put(m, k);
      }
    });
    o.put("lora_bias", loraBias);
    o.put("lora_dropout", 0.0);
    o.put("fan_in_fan_out", false);
    o.put("bias", "none");
    o.put("inference_mode", true);
    try {
      return JSON.writeValueAsString(o) + "\n";
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
