package io.sparkmerge.output;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmerge.InputDataException;
import io.sparkmerge.io.HfIndex;
import io.sparkmerge.io.SafetensorsHeader;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.io.TensorReader;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Checks a merge output against its manifest ({@code sparkmerge.json}) on any FileSystem: {@code _SUCCESS}
 * present; every file the manifest lists present with its size and digest; no other file; every shard's
 * header naming exactly the manifest's tensors of that shard, with their dtype, shape and byte length;
 * every tensor's bytes hashing to its SHA-256; the index's weight map and total size agreeing with the
 * manifest. Reads every byte of OUT once (shards in parallel); writes nothing.
 */
public final class OutputVerifier {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Names in OUT that the manifest does not list (the lock and staging live beside OUT, in its work directory). */
  private static final Set<String> PROTOCOL = Set.of(OutputLifecycle.SUCCESS, "sparkmerge.json");

  /** What was checked, and every difference found (empty when OUT matches its manifest). */
  public record Result(String runId, int files, int tensors, long bytes, List<String> problems) {}

  private OutputVerifier() {}

  public static Result verify(FileSystem fs, Path out, int threads) throws IOException {
    if (!fs.exists(out) || !fs.getFileStatus(out).isDirectory()) {
      throw new InputDataException(out + ": no such directory; give a merge output directory");
    }
    List<String> problems = new ArrayList<>();
    if (!fs.exists(new Path(out, OutputLifecycle.SUCCESS))) {
      problems.add("_SUCCESS: missing: the run that wrote OUT did not finish (or is still running)");
    }
    JsonNode manifest;
    try (InputStream in = fs.open(new Path(out, "sparkmerge.json"))) {
      manifest = JSON.readTree(in);
    } catch (FileNotFoundException e) {
      problems.add("sparkmerge.json: missing: OUT is not a finished sparkmerge merge output");
      return new Result("?", 0, 0, 0, problems);
    } catch (IOException e) {
      problems.add("sparkmerge.json: not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
      return new Result("?", 0, 0, 0, problems);
    }
    // tensor -> file, and file -> its tensors' manifest entries
    Map<String, String> weightMap = new TreeMap<>();
    Map<String, Map<String, JsonNode>> byFile = new TreeMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = manifest.path("tensors").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> t = it.next();
      String file = t.getValue().path("file").asText();
      weightMap.put(t.getKey(), file);
      byFile.computeIfAbsent(file, f -> new TreeMap<>()).put(t.getKey(), t.getValue());
    }
    JsonNode files = manifest.path("files");
    checkListing(fs, out, files, byFile.keySet(), problems);
    if (byFile.size() > 1 || !byFile.containsKey(HfIndex.SINGLE_FILE)) {
      checkIndex(fs, out, weightMap, byFile, problems);
    }
    long bytes = 0;
    ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads));
    try {
      List<Future<List<String>>> shards = new ArrayList<>();
      for (Map.Entry<String, Map<String, JsonNode>> f : byFile.entrySet()) {
        shards.add(pool.submit(() -> checkShard(fs, new Path(out, f.getKey()), f.getKey(), f.getValue(), files.path(f.getKey()))));
        for (JsonNode t : f.getValue().values()) {
          bytes += t.path("bytes").asLong();
        }
      }
      for (Future<List<String>> s : shards) {
        problems.addAll(s.get());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while verifying " + out, e);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    } finally {
      pool.shutdownNow();
    }
    int fileCount = files.isObject() ? files.size() : byFile.size();
    return new Result(manifest.path("run_id").asText("?"), fileCount, weightMap.size(), bytes, problems);
  }

  /** The manifest's files (sizes, digests of the small ones) against OUT's listing, both ways. */
  private static void checkListing(FileSystem fs, Path out, JsonNode files, Set<String> shardFiles, List<String> problems)
      throws IOException {
    Map<String, FileStatus> present = new TreeMap<>();
    for (FileStatus st : fs.listStatus(out)) {
      present.put(st.getPath().getName(), st);
    }
    Set<String> expected = new TreeSet<>(shardFiles);
    files.fieldNames().forEachRemaining(expected::add);
    for (String name : expected) {
      FileStatus st = present.get(name);
      JsonNode f = files.path(name);
      if (st == null) {
        problems.add(name + ": missing (listed in sparkmerge.json)");
      } else if (f.has("bytes") && st.getLen() != f.path("bytes").asLong()) {
        problems.add(name + ": " + st.getLen() + " bytes, sparkmerge.json says " + f.path("bytes").asLong());
      } else if (f.has("sha256")) {
        String got;
        try (TensorReader r = new TensorReader(fs, st.getPath())) {
          got = r.sha256(0, st.getLen(), new byte[1 << 16]);
        }
        if (!got.equals(f.path("sha256").asText())) {
          problems.add(name + ": SHA-256 " + got + " differs from sparkmerge.json's " + f.path("sha256").asText());
        }
      }
    }
    if (files.isObject()) {
      for (String name : present.keySet()) {
        if (!expected.contains(name) && !PROTOCOL.contains(name)) {
          problems.add(name + ": not part of the output sparkmerge.json describes");
        }
      }
    }
  }

  private static void checkIndex(FileSystem fs, Path out, Map<String, String> weightMap, Map<String, Map<String, JsonNode>> byFile,
      List<String> problems) throws IOException {
    JsonNode index;
    try (InputStream in = fs.open(new Path(out, HfIndex.INDEX_FILE))) {
      index = JSON.readTree(in);
    } catch (FileNotFoundException e) {
      return; // reported by the listing when the manifest lists it; a single unsharded file needs none
    } catch (IOException e) {
      problems.add(HfIndex.INDEX_FILE + ": not valid JSON");
      return;
    }
    Map<String, String> indexed = new TreeMap<>();
    index.path("weight_map").fields().forEachRemaining(e -> indexed.put(e.getKey(), e.getValue().asText()));
    if (!indexed.equals(weightMap)) {
      Set<String> diff = new TreeSet<>(weightMap.keySet());
      diff.addAll(indexed.keySet());
      diff.removeIf(k -> java.util.Objects.equals(weightMap.get(k), indexed.get(k)));
      problems.add(HfIndex.INDEX_FILE + ": weight_map differs from sparkmerge.json for " + diff.size() + " tensor(s), first "
          + diff.iterator().next());
    }
    long total = byFile.values().stream().flatMap(m -> m.values().stream()).mapToLong(t -> t.path("bytes").asLong()).sum();
    if (index.path("metadata").path("total_size").asLong(-1) != total) {
      problems.add(HfIndex.INDEX_FILE + ": metadata.total_size " + index.path("metadata").path("total_size") + ", the tensors sum to " + total);
    }
  }

  /** One shard: header against the manifest's entries, then every tensor's SHA-256. */
  private static List<String> checkShard(FileSystem fs, Path file, String name, Map<String, JsonNode> tensors, JsonNode described)
      throws IOException {
    List<String> problems = new ArrayList<>();
    if (!fs.exists(file)) {
      return problems; // reported by the listing
    }
    SafetensorsHeader h;
    try {
      h = SafetensorsHeader.read(fs, file);
    } catch (InputDataException e) {
      problems.add(name + ": " + e.getMessage());
      return problems;
    }
    if (described.has("header_sha256") && !described.path("header_sha256").asText().equals(h.headerSha256())) {
      problems.add(name + ": header SHA-256 differs from sparkmerge.json's");
    }
    for (String extra : h.tensors().keySet()) {
      if (!tensors.containsKey(extra)) {
        problems.add(name + ": tensor " + extra + " is not in sparkmerge.json");
      }
    }
    byte[] buf = new byte[1 << 20];
    try (TensorReader r = new TensorReader(fs, file)) {
      for (Map.Entry<String, JsonNode> e : tensors.entrySet()) {
        TensorInfo info = h.tensors().get(e.getKey());
        JsonNode want = e.getValue();
        if (info == null) {
          problems.add(name + ": tensor " + e.getKey() + " missing from the shard");
        } else if (!info.dtype().name().equals(want.path("dtype").asText()) || info.byteLength() != want.path("bytes").asLong()
            || !java.util.Arrays.toString(info.shape()).equals(shape(want))) {
          problems.add(name + ": tensor " + e.getKey() + " is " + info.dtype() + " " + info.shapeString() + ", sparkmerge.json says "
              + want.path("dtype").asText() + " " + shape(want));
        } else if (!r.sha256(info.fileOffset(), info.byteLength(), buf).equals(want.path("sha256").asText())) {
          problems.add(name + ": tensor " + e.getKey() + ": SHA-256 differs from sparkmerge.json's (the data changed)");
        }
      }
    } catch (InputDataException e) {
      problems.add(name + ": " + e.getMessage());
    }
    return problems;
  }

  private static String shape(JsonNode t) {
    List<Long> dims = new ArrayList<>();
    t.path("shape").forEach(d -> dims.add(d.asLong()));
    return dims.toString();
  }
}
