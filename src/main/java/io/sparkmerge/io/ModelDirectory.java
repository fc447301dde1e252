package io.sparkmerge.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmerge.InputDataException;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A model on storage in the Hugging Face layout: {@code model.safetensors}, or shards listed by
 * {@code model.safetensors.index.json}. Opening validates every shard's header and the index both
 * ways (every listed tensor is in its shard, every shard tensor is listed); the index may only name
 * plain files inside the directory. Pickle checkpoints are refused, never loaded.
 */
public final class ModelDirectory implements Serializable {
  private static final long MAX_INDEX_BYTES = 100_000_000L;
  private static final ObjectMapper JSON = new ObjectMapper(
      JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());

  private final String path;
  private final LinkedHashMap<String, SafetensorsHeader> headers;
  private final TreeMap<String, TensorInfo> tensors;
  private final Map<String, String> fileOf;

  private ModelDirectory(String path, LinkedHashMap<String, SafetensorsHeader> headers, TreeMap<String, TensorInfo> tensors,
      Map<String, String> fileOf) {
    this.path = path;
    this.headers = headers;
    this.tensors = tensors;
    this.fileOf = fileOf;
  }

  public static ModelDirectory open(FileSystem fs, Path dir) throws IOException {
    if (!fs.exists(dir)) {
      throw new InputDataException(dir + ": no such model directory");
    }
    if (fs.getFileStatus(dir).isFile()) {
      if (dir.getName().endsWith(".safetensors")) {
        return single(fs, dir.getParent(), dir);
      }
      throw new InputDataException(dir + ": is a file, not a model directory; give the directory holding model.safetensors");
    }
    Path single = new Path(dir, HfIndex.SINGLE_FILE);
    Path index = new Path(dir, HfIndex.INDEX_FILE);
    if (fs.exists(single)) {
      return single(fs, dir, single);
    }
    if (fs.exists(index)) {
      return sharded(fs, dir, index);
    }
    List<Path> safetensors = new ArrayList<>();
    List<String> pickles = new ArrayList<>();
    for (FileStatus st : fs.listStatus(dir)) {
      String n = st.getPath().getName();
      if (n.endsWith(".safetensors")) {
        safetensors.add(st.getPath());
      } else if (n.endsWith(".bin") || n.endsWith(".pt") || n.endsWith(".pth") || n.endsWith(".ckpt") || n.endsWith(".pkl")) {
        pickles.add(n);
      }
    }
    if (safetensors.size() == 1) {
      return single(fs, dir, safetensors.get(0));
    }
    if (safetensors.size() > 1) {
      throw new InputDataException(dir + ": " + safetensors.size() + " .safetensors files but no " + HfIndex.INDEX_FILE
          + "; add the index that lists which tensor is in which file");
    }
    if (!pickles.isEmpty()) {
      throw new InputDataException(dir + ": holds only pickle checkpoints (" + String.join(", ", pickles)
          + "); sparkmerge never loads pickle: convert to safetensors first (e.g. transformers' save_pretrained(..., safe_serialization=True))");
    }
    throw new InputDataException(dir + ": no " + HfIndex.SINGLE_FILE + " or " + HfIndex.INDEX_FILE + " in the directory");
  }

  private static ModelDirectory single(FileSystem fs, Path dir, Path file) throws IOException {
    SafetensorsHeader h = SafetensorsHeader.read(fs, file);
    LinkedHashMap<String, SafetensorsHeader> headers = new LinkedHashMap<>();
    headers.put(file.toString(), h);
    TreeMap<String, TensorInfo> tensors = new TreeMap<>(h.tensors());
    Map<String, String> fileOf = new LinkedHashMap<>();
    tensors.keySet().forEach(t -> fileOf.put(t, file.toString()));
    return new ModelDirectory(dir.toString(), headers, tensors, fileOf);
  }

  private static ModelDirectory sharded(FileSystem fs, Path dir, Path index) throws IOException {
    long size = fs.getFileStatus(index).getLen();
    if (size > MAX_INDEX_BYTES) {
      throw new InputDataException(index + ": index is " + size + " bytes, over the " + MAX_INDEX_BYTES + "-byte limit");
    }
    JsonNode root;
    try (InputStream in = fs.open(index)) {
      root = JSON.readTree(in);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new InputDataException(index + ": not valid JSON (" + e.getOriginalMessage() + ")");
    }
    if (root == null || !root.isObject() || !root.has("weight_map") || !root.get("weight_map").isObject()) {
      throw new InputDataException(index + ": must be a JSON object with a \"weight_map\" object (tensor name → shard file)");
    }
    Map<String, String> listed = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.get("weight_map").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isTextual()) {
        throw new InputDataException(index + ": weight_map entry of tensor '" + e.getKey() + "' must be a file name string");
      }
      String f = e.getValue().asText();
      if (f.isEmpty() || f.contains("/") || f.contains("\\") || f.equals(".") || f.equals("..") || f.contains(":")) {
        throw new InputDataException(index + ": tensor '" + e.getKey() + "' points to '" + f
            + "', which is not a plain file name inside the model directory; refusing to read outside it");
      }
      listed.put(e.getKey(), f);
    }
    LinkedHashMap<String, SafetensorsHeader> headers = new LinkedHashMap<>();
    Map<String, String> shardPath = new TreeMap<>();
    for (String f : new java.util.TreeSet<>(listed.values())) {
      Path p = new Path(dir, f);
      if (!fs.exists(p)) {
        String tensor = listed.entrySet().stream().filter(e -> e.getValue().equals(f)).findFirst().get().getKey();
        throw new InputDataException(index + ": shard '" + f + "' (holding tensor '" + tensor + "') does not exist in " + dir);
      }
      headers.put(p.toString(), SafetensorsHeader.read(fs, p));
      shardPath.put(f, p.toString());
    }
    TreeMap<String, TensorInfo> tensors = new TreeMap<>();
    Map<String, String> fileOf = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : listed.entrySet()) {
      String file = shardPath.get(e.getValue());
      TensorInfo t = headers.get(file).tensors().get(e.getKey());
      if (t == null) {
        throw new InputDataException(index + ": tensor '" + e.getKey() + "' is listed in shard '" + e.getValue()
            + "' but that shard has no such tensor");
      }
      tensors.put(e.getKey(), t);
      fileOf.put(e.getKey(), file);
    }
    for (SafetensorsHeader h : headers.values()) {
      for (String t : h.tensors().keySet()) {
        if (!listed.containsKey(t)) {
          throw new InputDataException(h.file() + ": tensor '" + t + "' is not listed in " + index
              + "; the index and the shards disagree");
        }
        if (!h.file().equals(fileOf.get(t))) {
          throw new InputDataException(h.file() + ": tensor '" + t + "' is also in " + fileOf.get(t) + "; tensor names must be unique");
        }
      }
    }
    return new ModelDirectory(dir.toString(), headers, tensors, fileOf);
  }

  /** The directory as given. */
  public String path() {
    return path;
  }

  /** The model's files (full paths). */
  public List<String> shardFiles() {
    return List.copyOf(headers.keySet());
  }

  /** Tensors by name (sorted). */
  public Map<String, TensorInfo> tensors() {
    return Collections.unmodifiableMap(tensors);
  }

  /** Full path of the file that holds the tensor. */
  public String fileOf(String tensor) {
    return fileOf.get(tensor);
  }

  public SafetensorsHeader header(String file) {
    return headers.get(file);
  }

  public List<SafetensorsHeader> headers() {
    return List.copyOf(headers.values());
  }

  /** Sum of the files' sizes. */
  public long totalBytes() {
    long n = 0;
    for (SafetensorsHeader h : headers.values()) {
      n += h.fileSize();
    }
    return n;
  }
}
