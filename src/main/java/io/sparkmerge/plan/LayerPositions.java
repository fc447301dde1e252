package io.sparkmerge.plan;

import java.util.Collection;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The position t of each tensor in the model (methods.md §0): a tensor of layer idx among L layers
 * has t = idx / (L − 1) (1 when L = 1); tensors outside the layers, before them (embeddings) and after
 * them (final norm, lm_head) alike, have t = 0, as in mergekit ≥ 0.1.2 ({@code plan.py} reads pre- and
 * post-layer weights with one {@code ConfigReader(t=0)}; 0.1.0–0.1.1 gave the post-layer ones t = 1).
 */
public final class LayerPositions {
  /** Matches the block index in HF names: model.layers.3., transformer.h.3., blocks.3., layer.3. */
  private static final Pattern LAYER = Pattern.compile("(?:^|\\.)(?:layers|h|blocks|layer)\\.(\\d+)\\.");
  private static final Pattern BEFORE_LAYERS = Pattern.compile("embed|wte|wpe|word_embeddings|position_embeddings");

  private final int layerCount;

  public LayerPositions(Collection<String> tensorNames) {
    int max = -1;
    for (String n : tensorNames) {
      max = Math.max(max, layerIndex(n));
    }
    this.layerCount = max + 1;
  }

  public int layerCount() {
    return layerCount;
  }

  /** The layer index in the name, or -1 for a tensor outside the layers. */
  public static int layerIndex(String tensorName) {
    Matcher m = LAYER.matcher(tensorName);
    if (!m.find()) {
      return -1;
    }
    String digits = m.group(1);
    if (digits.length() > 9) {
      throw new io.sparkmerge.InputDataException("tensor " + io.sparkmerge.Messages.brief(tensorName) + ": layer index "
          + io.sparkmerge.Messages.cut(digits, 20) + " is out of range (at most 999999999); rename the tensor");
    }
    return Integer.parseInt(digits);
  }

  /** The name with its layer index replaced (model.layers.3.x → model.layers.7.x); names outside the layers unchanged. */
  public static String withLayerIndex(String tensorName, int index) {
    Matcher m = LAYER.matcher(tensorName);
    if (!m.find()) {
      return tensorName;
    }
    return tensorName.substring(0, m.start(1)) + index + tensorName.substring(m.end(1));
  }

  /** Whether a tensor outside the layers comes before them (embeddings) rather than after (final norm, lm_head). */
  public static boolean beforeLayers(String tensorName) {
    return BEFORE_LAYERS.matcher(tensorName).find();
  }

  public double position(String tensorName) {
    int idx = layerIndex(tensorName);
    if (idx < 0) {
      return 0.0;
    }
    return layerCount <= 1 ? 1.0 : (double) idx / (layerCount - 1);
  }
}
