package io.sparkmerge;

/**
 * Bad input data (exit code 3): a malformed safetensors header, models that do not match, NaN/Inf
 * where they are not allowed. The message names the file and, where there is one, the tensor.
 */
public class InputDataException extends SparkmergeException {
  public InputDataException(String message) {
    super(3, message);
  }

  public InputDataException(String message, Throwable cause) {
    super(3, message, cause);
  }
}
