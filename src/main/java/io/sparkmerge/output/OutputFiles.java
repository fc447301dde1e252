package io.sparkmerge.output;

import io.sparkmerge.io.SafetensorsHeader;
import io.sparkmerge.io.TensorReader;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The {@code files} section of {@code sparkmerge.json}: the size of every file a merge commits, the
 * SHA-256 of each file that is not a shard, and of each shard's header (its 8-byte length and JSON).
 * With the per-tensor digests (which cover a shard's data, contiguous after its header) every byte of
 * OUT but the manifest itself has a recorded digest, which {@code sparkmerge verify} checks.
 */
public final class OutputFiles {
  static final String SHARD_SUFFIX = ".safetensors";

  private OutputFiles() {}

  /** Describes the files {@code names} of {@code dir} as written (read back: small files and shard headers only). */
  public static Map<String, Map<String, Object>> describe(FileSystem fs, Path dir, List<String> names) throws IOException {
    return describe(fs, dir, names, Map.of());
  }

  /** {@link #describe}, taking the entries of {@code known} (shards uploaded elsewhere, not yet readable) as given. */
  public static Map<String, Map<String, Object>> describe(FileSystem fs, Path dir, List<String> names,
      Map<String, Map<String, Object>> known) throws IOException {
    Map<String, Map<String, Object>> files = new LinkedHashMap<>();
    byte[] buf = new byte[1 << 20];
    for (String name : names) {
      if (known.containsKey(name)) {
        files.put(name, known.get(name));
        continue;
      }
      Path p = new Path(dir, name);
      FileStatus st = fs.getFileStatus(p);
      if (st.isDirectory()) {
        continue;
      }
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("bytes", st.getLen());
      if (name.endsWith(SHARD_SUFFIX)) {
        f.put("header_sha256", SafetensorsHeader.read(fs, p).headerSha256());
      } else {
        try (TensorReader r = new TensorReader(fs, p)) {
          f.put("sha256", r.sha256(0, st.getLen(), buf));
        }
      }
      files.put(name, f);
    }
    return files;
  }
}
