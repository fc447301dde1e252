package io.sparkmerge.io;

import io.sparkmerge.InputDataException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The checkpoints of one training run under a root directory (methods.md §5): its direct
 * subdirectories whose names carry a step number ({@code checkpoint-1000}, {@code step_2000},
 * {@code global_step3000}, {@code iter_0004000}), ordered by step. Other entries are ignored, and so are
 * directories holding a {@code sparkmerge.json} (sparkmerge's own outputs, e.g. a watcher's {@code step-N/}).
 *
 * <p>A checkpoint is <em>complete</em> when the user-named marker file exists in it, or (without a
 * marker) when its model directory opens: the single file's or every indexed shard's header is
 * present and valid and the files are as long as their headers say, so a checkpoint still being
 * written is not merged.
 */
public final class CheckpointDiscovery {
  private static final Pattern NAME = Pattern.compile("(?:checkpoint|global_step|step|iter)[-_]?(\\d+)");

  /** One checkpoint directory and its step; {@code problem} says why it is not complete (null when it is). */
  public record Checkpoint(long step, Path dir, String problem) {
    public boolean complete() {
      return problem == null;
    }
  }

  private CheckpointDiscovery() {}

  /** The step a directory name carries, or -1 when it is not a checkpoint name. */
  public static long stepOf(String name) {
    Matcher m = NAME.matcher(name);
    if (!m.matches()) {
      return -1;
    }
    try {
      return Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Every checkpoint under root, oldest step first, with its completeness.
   *
   * @param marker a file name whose presence marks a checkpoint complete, or null to check the files
   */
  public static List<Checkpoint> discover(FileSystem fs, Path root, String marker) throws IOException {
    if (!fs.exists(root) || !fs.getFileStatus(root).isDirectory()) {
      throw new InputDataException(root + ": no such directory; give the run's checkpoint root (holding checkpoint-<step> directories)");
    }
    TreeMap<Long, Path> bySteps = new TreeMap<>();
    for (FileStatus st : fs.listStatus(root)) {
      long step = st.isDirectory() ? stepOf(st.getPath().getName()) : -1;
      // sparkmerge's own outputs (step-N/ of a watcher, holding sparkmerge.json) are never checkpoints
      if (step < 0 || fs.exists(new Path(st.getPath(), "sparkmerge.json"))) {
        continue;
      }
      Path prev = bySteps.put(step, st.getPath());
      if (prev != null) {
        throw new InputDataException(root + ": two checkpoints of step " + step + " (" + prev.getName() + " and "
            + st.getPath().getName() + "); keep one of them");
      }
    }
    List<Checkpoint> out = new ArrayList<>();
    for (var e : bySteps.entrySet()) {
      out.add(new Checkpoint(e.getKey(), e.getValue(), problem(fs, e.getValue(), marker)));
    }
    out.sort(Comparator.comparingLong(Checkpoint::step));
    return out;
  }

  private static String problem(FileSystem fs, Path dir, String marker) throws IOException {
    if (marker != null) {
      return fs.exists(new Path(dir, marker)) ? null : "no completion marker " + marker + " yet";
    }
    try {
      ModelDirectory.open(fs, dir);
      return null;
    } catch (InputDataException e) {
      return e.getMessage();
    } catch (java.io.FileNotFoundException e) {
      // a file listed a moment ago was moved away (a writer renaming its temporary files): not complete yet
      return "file vanished while checking: " + e.getMessage();
    }
  }
}
