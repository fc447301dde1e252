package io.sparkmerge;

/** Bad usage or configuration (exit code 2): an unknown key, a bad parameter value, a missing path. */
public class ConfigException extends SparkmergeException {
  public ConfigException(String message) {
    super(2, message);
  }

  public ConfigException(String message, Throwable cause) {
    super(2, message, cause);
  }
}
