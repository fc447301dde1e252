package io.sparkmerge.output;

import io.sparkmerge.ConfigException;
import io.sparkmerge.Messages;
import org.apache.hadoop.fs.Path;

/** An output path as the command line gives it, and where its hidden work directory lives. */
public final class OutputPath {
  private OutputPath() {}

  /** An output path as given on the command line; an empty or invalid one is a usage error (exit 2). */
  public static Path parse(String out) {
    if (out == null || out.isBlank()) {
      throw new ConfigException("the output path is empty; give a path to write to");
    }
    try {
      return new Path(out);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("the output path '" + Messages.brief(out) + "' is not a valid path ("
          + e.getMessage() + ")");
    }
  }

  /** The hidden work directory of the output {@code out} ({@code .<name>.sparkmerge/} beside it). */
  public static Path workDir(Path out) {
    return new Path(out.getParent(), "." + out.getName() + WorkDir.SUFFIX);
  }
}
