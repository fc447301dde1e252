package io.sparkmerge.method;

import java.util.List;

/** The weight-scope family (methods.md §6): the {@code wsa} merge. */
public final class ScopeMethods {
  private ScopeMethods() {}

  public static List<MergeMethod> all() {
    return WsaMerge.all();
  }
}
