package io.sparkmerge;

/** The output directory exists and is not empty, and --overwrite was not given (exit code 4). */
public class OutputExistsException extends SparkmergeException {
  public OutputExistsException(String message) {
    super(4, message);
  }
}
