package io.sparkmerge;

/** The tool's version, as recorded in manifests and printed by --version. */
public final class Version {
  public static final String VERSION = "0.1.0";

  private Version() {}
}
