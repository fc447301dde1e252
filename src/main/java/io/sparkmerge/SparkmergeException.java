package io.sparkmerge;

/**
 * Base of every error sparkmerge reports to a user. The message is one line that names the file,
 * tensor or key at fault and what to do; {@link #exitCode()} is the process exit code the CLI uses
 * (DESIGN.md §4: 2 bad usage or config, 3 bad input data, 4 output exists, 1 anything else).
 */
public class SparkmergeException extends RuntimeException {
  private final int exitCode;

  public SparkmergeException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  public SparkmergeException(int exitCode, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  public int exitCode() {
    return exitCode;
  }
}
