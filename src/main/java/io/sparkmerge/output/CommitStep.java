package io.sparkmerge.output;

import java.io.IOException;
import java.util.Locale;
import org.slf4j.LoggerFactory;

/**
 * The steps of a publish, in order. Between any two of them a killed driver leaves either the complete
 * old output or the complete new one (with the journal saying where), and the next run, or
 * {@code sparkmerge recover OUT}, finishes the publish. Tests stop the driver at each step in turn.
 */
public enum CommitStep {
  /** The new output is complete in the work directory, {@code _SUCCESS} written last; nothing published yet. */
  STAGED,
  /** The journal names the new output, the target and where the old output goes. */
  JOURNAL_WRITTEN,
  /** The old output was renamed aside (the target path is free for a moment). */
  OLD_MOVED_ASIDE,
  /** The new output was renamed to the target. */
  NEW_MOVED_IN,
  /** The old output was deleted. */
  OLD_DELETED,
  /** The journal was deleted: the publish is over (the lock is released next). */
  JOURNAL_DELETED;

  /** Spark conf key (tests only): halt the driver JVM, as a kill would, when the publish reaches this step. */
  public static final String HALT_KEY = "spark.sparkmerge.test.haltAtCommitStep";

  /** Called as the publish reaches each step. */
  public interface Hook {
    Hook NONE = step -> {};

    void at(CommitStep step) throws IOException;
  }

  /** A hook that halts the JVM (no shutdown hooks, no finally blocks: a SIGKILL) at the named step; NONE for null. */
  public static Hook haltAt(String stepName) {
    if (stepName == null || stepName.isEmpty()) {
      return Hook.NONE;
    }
    CommitStep target = valueOf(stepName.toUpperCase(Locale.ROOT));
    return step -> {
      if (step == target) {
        LoggerFactory.getLogger(CommitStep.class).error("test hook {}: halting the driver at commit step {}", HALT_KEY, step);
        System.out.flush();
        Runtime.getRuntime().halt(137);
      }
    };
  }
}
