package io.sparkmerge.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** The Hugging Face sharded-checkpoint index ({@code model.safetensors.index.json}) and shard names. */
public final class HfIndex {
  public static final String INDEX_FILE = "model.safetensors.index.json";
  public static final String SINGLE_FILE = "model.safetensors";
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private HfIndex() {}

  /** {@code model-00001-of-00003.safetensors} (1-based); {@code model.safetensors} when there is one shard. */
  public static String shardName(int i, int n) {
    return n == 1 ? SINGLE_FILE : String.format("model-%05d-of-%05d.safetensors", i, n);
  }

  /** The index JSON: metadata.total_size (sum of tensor bytes) and the weight map sorted by tensor name. */
  public static String json(long totalSize, Map<String, String> weightMap) {
    ObjectNode root = JSON.createObjectNode();
    root.putObject("metadata").put("total_size", totalSize);
    ObjectNode wm = root.putObject("weight_map");
    new TreeMap<>(weightMap).forEach(wm::put);
    try {
      return JSON.writeValueAsString(root) + "\n";
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static void write(FileSystem fs, Path indexFile, long totalSize, Map<String, String> weightMap) throws IOException {
    try (OutputStream os = fs.create(indexFile, true)) {
      os.write(json(totalSize, weightMap).getBytes(StandardCharsets.UTF_8));
    }
  }
}
