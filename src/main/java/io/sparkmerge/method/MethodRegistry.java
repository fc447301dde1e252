package io.sparkmerge.method;

import io.sparkmerge.param.Names;
import io.sparkmerge.ConfigException;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Merge methods by config name. Each family of methods registers through its own provider (a
 * class with a static {@code all()}), so adding a family is one line here.
 */
public final class MethodRegistry {
  private static final Map<String, MergeMethod> METHODS = new TreeMap<>();

  static {
    for (List<MergeMethod> family : List.<List<MergeMethod>>of(
        BaselineMethods.all(),
        InterpolationMethods.all(),
        SubspaceMethods.all(),
        ScopeMethods.all(),
        SparseMethods.all())) {
      for (MergeMethod m : family) {
        if (METHODS.put(m.name(), m) != null) {
          throw new IllegalStateException("two merge methods are named '" + m.name() + "'");
        }
      }
    }
  }

  private MethodRegistry() {}

  public static Map<String, MergeMethod> all() {
    return Collections.unmodifiableMap(METHODS);
  }

  /** The method of that config name, or a {@link ConfigException} that suggests the nearest name. */
  public static MergeMethod get(String name) {
    MergeMethod m = METHODS.get(name);
    if (m == null) {
      throw new ConfigException("unknown merge_method '" + name + "'" + Names.suggestion(name, METHODS.keySet())
          + "; available: " + String.join(", ", METHODS.keySet()));
    }
    return m;
  }
}
