package io.sparkmerge.method;

/** Whether a method uses a base model ({@link MergeMethod#baseUse()}). */
public enum BaseUse {
  REQUIRED,
  OPTIONAL,
  NOT_USED
}
