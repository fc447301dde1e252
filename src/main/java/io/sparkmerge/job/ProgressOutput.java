package io.sparkmerge.job;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;

/**
 * Where the driver's progress goes ({@code --progress text|json|none}), for the command running in
 * this JVM: the CLI sets it around a command ({@link #use}); every {@link StageRunner} stage reads it.
 * TEXT prints the human line to the job's console; JSON prints one JSON object per line to its own
 * stream (the CLI's stdout, which then carries nothing else); NONE prints no progress.
 */
public final class ProgressOutput {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static volatile ProgressOutput current = new ProgressOutput(Mode.TEXT, null);

  /** The progress formats of {@code --progress}. */
  public enum Mode {
    TEXT, JSON, NONE;

    /** {@code text|json|none}, any case; anything else is a usage error. */
    public static Mode parse(String s) {
      try {
        return valueOf(s.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new io.sparkmerge.ConfigException("--progress must be text, json or none, got '" + s + "'");
      }
    }
  }

  private final Mode mode;
  private final PrintStream json;

  private ProgressOutput(Mode mode, PrintStream json) {
    this.mode = mode;
    this.json = json;
  }

  /** Sets the progress output of the commands that follow, returning the previous one (to restore). */
  public static ProgressOutput use(Mode mode, PrintStream json) {
    ProgressOutput prev = current;
    current = new ProgressOutput(mode, json);
    return prev;
  }

  /** A progress output of its own (not the current one): e.g. the CLI's final event. */
  public static ProgressOutput to(Mode mode, PrintStream json) {
    return new ProgressOutput(mode, json);
  }

  /** Restores a setting {@link #use} returned. */
  public static void restore(ProgressOutput prev) {
    current = prev;
  }

  public static ProgressOutput current() {
    return current;
  }

  public Mode mode() {
    return mode;
  }

  /** Prints one event as a single JSON line (fields in the map's order); a no-op unless the mode is JSON. */
  public void event(Map<String, Object> fields) {
    if (mode != Mode.JSON) {
      return;
    }
    try {
      String line = JSON.writeValueAsString(fields);
      synchronized (json) {
        json.println(line);
        json.flush();
      }
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("progress event not serialisable: " + fields, e);
    }
  }
}
