package io.sparkmerge.output;

import io.sparkmerge.exec.ShardResult;
import io.sparkmerge.exec.TensorResult;
import io.sparkmerge.Version;
import io.sparkmerge.io.ModelDirectory;
import io.sparkmerge.io.SafetensorsHeader;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.io.TensorReader;
import io.sparkmerge.plan.InputModel;
import io.sparkmerge.plan.MergePlan;
import io.sparkmerge.plan.ShardPlan;
import io.sparkmerge.plan.TensorTask;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileChecksum;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code merge --resume}: reuse the shards an earlier, failed or killed run of the same plan finished.
 * Every finished task leaves {@code part-<p>-attempt-<a>.result} (its {@link ShardResult}) next to its
 * shard in the run's scratch, and the driver leaves {@code _plan.sha256}, a digest of everything that
 * decides the output bytes (tool version, inputs with their header digests and their data's length,
 * modification time and file-system checksum, every tensor's method, parameters, dtype and shape, the
 * shard layout, seed, compute dtype). A resumed run adopts the kept run whose digest equals its own
 * ({@link OutputLifecycle#runResumable}), and reuses a shard only if its file is there with the recorded
 * size and every tensor's SHA-256 matches the one recorded when it was written.
 */
public final class ShardReuse {
  private static final Logger LOG = LoggerFactory.getLogger(ShardReuse.class);
  public static final String PLAN_FILE = "_plan.sha256";
  static final String RESULT_SUFFIX = ".result";

  private ShardReuse() {}

  /**
   * SHA-256 (hex) of what decides the output bytes; independent of the run id. Besides the plan it covers
   * the inputs' data: every input file's length and modification time, and its checksum where the file
   * system keeps one (HDFS: MD5 of the block CRCs), so a shard built from data changed since is not reused.
   */
  public static String fingerprint(MergePlan plan, Configuration conf) throws IOException {
    StringBuilder sb = new StringBuilder("sparkmerge ").append(Version.VERSION).append('\n');
    sb.append(plan.method()).append(' ').append(plan.baseInMerge()).append(' ').append(plan.computeDouble()).append(' ')
        .append(plan.seed()).append(' ').append(plan.allowNonfinite()).append(' ').append(plan.chunkBytes()).append('\n');
    if (plan.base() != null) {
      model(sb, plan.base(), conf);
    }
    for (InputModel m : plan.models()) {
      model(sb, m, conf);
    }
    if (plan.embeddingRows() != null) {
      sb.append("embedding rows ").append(plan.embeddingRows().fingerprint()).append('\n');
    }
    for (ShardPlan s : plan.shards()) {
      sb.append("shard ").append(s.index()).append(' ').append(s.fileName()).append('\n');
      for (TensorTask t : s.tensors()) {
        sb.append(t.name()).append(' ').append(Arrays.toString(t.shape())).append(' ').append(t.outDtype()).append(' ')
            .append(t.method()).append(' ').append(t.global()).append(' ').append(t.perModel()).append(' ').append(t.sides()).append(' ').append(t.rounding()).append(' ')
            .append(t.copyFrom()).append(' ').append(t.position()).append('\n');
      }
    }
    return sha256Hex(sb.toString().getBytes(StandardCharsets.UTF_8));
  }

  private static void model(StringBuilder sb, InputModel m, Configuration conf) throws IOException {
    sb.append(m.role()).append(' ').append(m.path()).append('\n');
    for (ModelDirectory d : new ModelDirectory[] {m.dir(), m.masks(), m.taskVector()}) {
      if (d == null) {
        continue;
      }
      for (SafetensorsHeader h : d.headers()) {
        sb.append("  ").append(h.headerSha256()).append(' ');
        data(sb, new Path(h.file()), conf);
      }
    }
    if (m.lora() != null) { // the adapter's tensors (header and data identity) and the scales its config gives them
      sb.append("  lora ").append(m.lora().path()).append('\n');
      for (SafetensorsHeader h : m.lora().dir().headers()) {
        sb.append("  ").append(h.headerSha256()).append(' ');
        data(sb, new Path(h.file()), conf);
      }
      sb.append("  ").append(m.lora().changes()).append('\n');
    }
    for (String side : new String[] {m.importance(), m.activations()}) {
      if (side != null && !side.equals("task_vector_norm")) {
        Path p = new Path(side);
        FileSystem fs = p.getFileSystem(conf);
        if (fs.exists(p)) {
          for (FileStatus st : fs.isDirectory(p) ? fs.listStatus(p) : new FileStatus[] {fs.getFileStatus(p)}) {
            sb.append("  ");
            data(sb, st.getPath(), conf);
          }
        }
      }
    }
  }

  /** One input file's data identity: path, length, modification time and the file system's checksum (if any). */
  private static void data(StringBuilder sb, Path file, Configuration conf) throws IOException {
    FileSystem fs = file.getFileSystem(conf);
    FileStatus st = fs.getFileStatus(file);
    FileChecksum sum = fs.getFileChecksum(file);
    sb.append(st.getPath()).append(' ').append(st.getLen()).append(' ').append(st.getModificationTime()).append(' ')
        .append(sum == null ? "-" : sum.getAlgorithmName() + ":" + HexFormat.of().formatHex(sum.getBytes())).append('\n');
  }

  /** Records a finished task's result next to its shard (executor side); written aside, then renamed. */
  public static void record(FileSystem fs, ShardResult r) throws IOException {
    Path file = new Path(r.attemptFile() + RESULT_SUFFIX);
    Path tmp = new Path(r.attemptFile() + RESULT_SUFFIX + ".tmp");
    try (OutputStream os = fs.create(tmp, true); ObjectOutputStream oos = new ObjectOutputStream(os)) {
      oos.writeObject(r);
    }
    fs.delete(file, false);
    if (!fs.rename(tmp, file)) {
      throw new IOException("cannot move " + tmp + " to " + file);
    }
  }

  /** The shards of {@code staging} that match the plan and their recorded digests, by partition. */
  public static Map<Integer, ShardResult> verified(FileSystem fs, Path staging, MergePlan plan) throws IOException {
    Map<Integer, ShardResult> ok = new TreeMap<>();
    for (FileStatus st : fs.listStatus(staging)) {
      if (!st.getPath().getName().endsWith(".safetensors" + RESULT_SUFFIX)) {
        continue;
      }
      ShardResult r;
      try (ObjectInputStream in = new ObjectInputStream(fs.open(st.getPath()))) {
        r = (ShardResult) in.readObject();
      } catch (IOException | ClassNotFoundException | ClassCastException e) {
        LOG.warn("ignoring unreadable {}: {}", st.getPath(), e.toString());
        continue;
      }
      if (ok.containsKey(r.partition())) {
        continue;
      }
      String why = mismatch(fs, plan, r);
      if (why == null) {
        ok.put(r.partition(), r);
      } else {
        LOG.warn("not reusing {}: {}; it will be computed again", r.attemptFile(), why);
        fs.delete(st.getPath(), false);
      }
    }
    return ok;
  }

  /** Null if the shard file is exactly what the plan's shard asks for, else the first difference. */
  private static String mismatch(FileSystem fs, MergePlan plan, ShardResult r) throws IOException {
    if (r.partition() < 0 || r.partition() >= plan.shards().size()) {
      return "partition " + r.partition() + " is not in the plan";
    }
    ShardPlan s = plan.shards().get(r.partition());
    Path file = new Path(r.attemptFile());
    if (r.upload() != null) {
      return uploadMismatch(fs, s, r, file);
    }
    if (!fs.exists(file) || fs.getFileStatus(file).getLen() != r.fileBytes()) {
      return "the file is missing or its size differs from the " + r.fileBytes() + " bytes written";
    }
    if (r.tensors().size() != s.tensors().size()) {
      return "it holds " + r.tensors().size() + " tensors, the plan " + s.tensors().size();
    }
    SafetensorsHeader h = SafetensorsHeader.read(fs, file);
    byte[] buf = new byte[1 << 20];
    try (TensorReader reader = new TensorReader(fs, file)) {
      for (int i = 0; i < s.tensors().size(); i++) {
        TensorTask planned = s.tensors().get(i);
        TensorResult got = r.tensors().get(i);
        TensorInfo info = h.tensors().get(planned.name());
        if (!planned.name().equals(got.name()) || info == null || info.dtype() != planned.outDtype()
            || !Arrays.equals(info.shape(), planned.shape()) || got.sha256() == null) {
          return "tensor " + planned.name() + " is not the planned one";
        }
        if (!reader.sha256(info.fileOffset(), info.byteLength(), buf).equals(got.sha256())) {
          return "tensor " + planned.name() + " has changed since it was written (SHA-256 differs)";
        }
      }
    }
    return null;
  }

  /**
   * A shard uploaded to its final key and left pending cannot be read before it is completed: it is reused
   * if its record is still in scratch (no cleanup aborted it), it is the planned file and its tensors are
   * the planned ones with digests; completing it fails if the store dropped it meanwhile.
   */
  private static String uploadMismatch(FileSystem fs, ShardPlan s, ShardResult r, Path file) throws IOException {
    if (!fs.exists(new Path(file + io.sparkmerge.io.PendingUpload.RECORD_SUFFIX))) {
      return "its pending upload was aborted";
    }
    if (!new Path(r.upload().target()).getName().equals(s.fileName()) || r.tensors().size() != s.tensors().size()) {
      return "it is not the planned " + s.fileName();
    }
    for (int i = 0; i < s.tensors().size(); i++) {
      if (!s.tensors().get(i).name().equals(r.tensors().get(i).name()) || r.tensors().get(i).sha256() == null) {
        return "tensor " + s.tensors().get(i).name() + " is not the planned one";
      }
    }
    return null;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String sha256Hex(byte[] b) {
    return HexFormat.of().formatHex(sha256().digest(b));
  }
}
