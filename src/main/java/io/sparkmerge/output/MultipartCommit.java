package io.sparkmerge.output;

import io.sparkmerge.io.PendingUpload;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.hadoop.fs.CommonPathCapabilities;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The commit of a directory output whose large files the tasks uploaded straight to their final keys as
 * multipart uploads left pending (object stores: no copy of the data at commit). A journal naming every
 * upload and the small files staged in {@code new/} is written to the work directory first; then the old
 * {@code _SUCCESS} is deleted, the uploads are completed (each object appears whole, replacing the old
 * object of that name), the small files are moved in, old entries the new output does not have are
 * deleted, {@code _SUCCESS} is written last and the journal deleted. Each completion is marked by an empty
 * object written right after it (S3 refuses to complete an upload twice). Until the first completion OUT is
 * the old output; from it until {@code _SUCCESS} OUT holds a mix without {@code _SUCCESS}. Every step is
 * idempotent, so {@link #recover} (the next run, {@code sparkmerge recover}) rolls a killed commit forward.
 */
final class MultipartCommit {
  private static final Logger LOG = LoggerFactory.getLogger(MultipartCommit.class);
  static final String JOURNAL = "multipart-commit.bin";
  /** Marks the journal's upload i completed: written right after it is. */
  static final String DONE_PREFIX = "multipart-completed-";
  /** Hadoop conf key: false keeps the staged commit (tasks write to scratch, the publish copies) on object stores. */
  static final String ENABLED_KEY = "sparkmerge.multipart.commit";

  /** What a commit does, written before its first step. */
  record Journal(String fresh, String target, List<String> freshNames, List<PendingUpload> uploads) implements Serializable {}

  private final FileSystem fs;
  private final Path journal;

  MultipartCommit(FileSystem fs, Path workDir) {
    this.fs = fs;
    this.journal = new Path(workDir, JOURNAL);
  }

  /** Whether tasks upload an output in {@code dir} straight to its final keys: an object store with Hadoop's multipart uploader. */
  static boolean supported(FileSystem fs, org.apache.hadoop.conf.Configuration conf, Path dir) throws IOException {
    String scheme = fs.getUri().getScheme() == null ? "" : fs.getUri().getScheme().toLowerCase(Locale.ROOT);
    return Publisher.OBJECT_STORES.contains(scheme) && conf.getBoolean(ENABLED_KEY, true)
        && fs.hasPathCapability(dir, CommonPathCapabilities.FS_MULTIPART_UPLOADER);
  }

  void publish(Path fresh, Path target, List<PendingUpload> uploads, CommitStep.Hook hook) throws IOException {
    hook.at(CommitStep.STAGED);
    List<String> names = new ArrayList<>();
    for (FileStatus st : fs.listStatus(fresh)) {
      if (!st.getPath().getName().equals(OutputLifecycle.SUCCESS)) {
        names.add(st.getPath().getName());
      }
    }
    Journal j = new Journal(fresh.toString(), target.toString(), names, List.copyOf(uploads));
    try (OutputStream os = fs.create(journal, true); ObjectOutputStream oos = new ObjectOutputStream(os)) {
      oos.writeObject(j);
    }
    hook.at(CommitStep.JOURNAL_WRITTEN);
    rollForward(j, hook);
  }

  /** Finishes a commit a killed run left; a one-line account, or null when there was none. */
  String recover() throws IOException {
    if (!fs.exists(journal)) {
      return null;
    }
    Journal j;
    try (ObjectInputStream in = new ObjectInputStream(fs.open(journal))) {
      j = (Journal) in.readObject();
    } catch (ClassNotFoundException | ClassCastException e) {
      throw new IOException(journal + " is not a commit journal of this version; delete it by hand", e);
    }
    rollForward(j, CommitStep.Hook.NONE);
    return "finished an interrupted commit of " + j.target() + ": " + j.uploads().size() + " upload(s) completed";
  }

  private void rollForward(Journal j, CommitStep.Hook hook) throws IOException {
    Path target = new Path(j.target());
    Path fresh = new Path(j.fresh());
    fs.delete(new Path(target, OutputLifecycle.SUCCESS), false);
    long first = System.nanoTime();
    Set<String> keep = new HashSet<>(j.freshNames());
    keep.add(OutputLifecycle.SUCCESS);
    for (int i = 0; i < j.uploads().size(); i++) {
      PendingUpload u = j.uploads().get(i);
      keep.add(new Path(u.target()).getName());
      Path done = new Path(journal.getParent(), DONE_PREFIX + i);
      if (!fs.exists(done)) { // a completed upload cannot be completed again (S3 may answer InvalidPart)
        u.complete(fs);
        fs.create(done, true).close();
      }
    }
    for (String n : j.freshNames()) {
      Path src = new Path(fresh, n);
      if (fs.exists(src)) { // moved already by a commit that was killed
        Path dst = new Path(target, n);
        fs.delete(dst, true);
        if (!fs.rename(src, dst)) {
          throw new IOException("cannot move " + src + " to " + dst);
        }
      }
    }
    hook.at(CommitStep.NEW_MOVED_IN);
    for (FileStatus st : fs.listStatus(target)) {
      if (!keep.contains(st.getPath().getName())) {
        fs.delete(st.getPath(), true);
      }
    }
    hook.at(CommitStep.OLD_DELETED);
    fs.create(new Path(target, OutputLifecycle.SUCCESS), true).close();
    LOG.info("committed {} upload(s) and {} small file(s) to {}: {} ms from the first completion to _SUCCESS", j.uploads().size(),
        j.freshNames().size(), target, (System.nanoTime() - first) / 1_000_000);
    fs.delete(journal, false);
    for (int i = 0; i < j.uploads().size(); i++) {
      fs.delete(new Path(journal.getParent(), DONE_PREFIX + i), false);
    }
    hook.at(CommitStep.JOURNAL_DELETED);
  }

  /**
   * Aborts the uploads recorded in a run's scratch ({@code *.upload}, written by each task as its upload
   * starts) except those in {@code keep} (target strings); with {@code dropResults} the tasks' result
   * records of aborted uploads go too, so --resume does not reuse them. Completed ones abort as no-ops.
   * Returns how many pending uploads were aborted.
   */
  static int abortRecorded(FileSystem fs, Path scratch, Set<String> keep, boolean dropResults) throws IOException {
    if (!fs.exists(scratch)) {
      return 0;
    }
    int aborted = 0;
    for (FileStatus st : fs.listStatus(scratch)) {
      String n = st.getPath().getName();
      if (!n.endsWith(PendingUpload.RECORD_SUFFIX)) {
        continue;
      }
      PendingUpload u = PendingUpload.readFrom(fs, st.getPath());
      if (u == null || keep.contains(new String(u.handle(), java.nio.charset.StandardCharsets.ISO_8859_1))) {
        continue;
      }
      try {
        if (u.abort(fs)) {
          aborted++;
          LOG.warn("aborted the pending upload of {} left by {}", u.target(), st.getPath());
        }
      } catch (IOException e) { // a completed upload may answer so; a pending one stays for the next cleanup
        LOG.warn("could not abort the upload of {} recorded in {}: {}", u.target(), st.getPath(), e.toString());
        continue;
      }
      if (dropResults) {
        String attempt = n.substring(0, n.length() - PendingUpload.RECORD_SUFFIX.length());
        fs.delete(new Path(scratch, attempt + ShardReuse.RESULT_SUFFIX), false);
        fs.delete(st.getPath(), false);
      }
    }
    return aborted;
  }

  /** The keys {@link #abortRecorded} keeps for these uploads. */
  static Set<String> handles(List<PendingUpload> uploads) {
    Set<String> s = new HashSet<>();
    uploads.forEach(u -> s.add(new String(u.handle(), java.nio.charset.StandardCharsets.ISO_8859_1)));
    return s;
  }
}
