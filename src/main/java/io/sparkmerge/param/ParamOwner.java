package io.sparkmerge.param;

/** What has parameters: a name for messages and its {@link ParamSpec} (a merge method). */
public interface ParamOwner {
  /** The registry name used in configs and messages. */
  String name();

  /** The parameters it accepts, with their defaults, scope and validation. */
  ParamSpec params();
}
