package io.sparkmerge.method;

import io.sparkmerge.ConfigException;
import io.sparkmerge.param.Names;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Merge methods by config name: adding a method is one line in {@link #methods()}. */
public final class MethodRegistry {
  private static final Map<String, MergeMethod> METHODS = new TreeMap<>();

  static {
    for (MergeMethod m : methods()) {
      if (METHODS.put(m.name(), m) != null) {
        throw new IllegalStateException("two merge methods are named '" + m.name() + "'");
      }
    }
  }

  private MethodRegistry() {}

  /** Every method, grouped as methods.md groups them. */
  private static List<MergeMethod> methods() {
    List<MergeMethod> l = new ArrayList<>(List.of(
        // §1 baselines (with the task-arithmetic family below) and interpolation
        new LinearMerge(), new PassthroughMerge(), new SlerpMerge(), new NuslerpMerge(), new ModelStockMerge(),
        new KarcherMerge(), new SceMerge(), new NearswapMerge(), new MultislerpMerge(), RamMerge.ram(), RamMerge.ramplusTl(), new ArceeFusionMerge(),
        // §2 subspace methods; §3–§4 sparse masks and layer-wise densities; §6 weight scope
        new IsoCMerge(), new IsoCtsMerge(), new TsvMerge(), new LocalizeStitchMerge(), new LewisMerge(), new WsaMerge()));
    // §1 task_arithmetic, ties, dare_*, breadcrumbs*, della*: sparsify → consensus → combine
    l.addAll(GeneralizedTaskArithmetic.family());
    return l;
  }

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

  /** The names of the methods that read this kind of side input (for messages). */
  public static List<String> readers(SideInput.Kind kind) {
    return METHODS.values().stream().filter(m -> SideInput.reads(m, kind)).map(MergeMethod::name).toList();
  }
}
