package io.sparkmerge.param;

import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Parameter values as they apply to one tensor (and one model, for per-model parameters): plain
 * scalars (Double, Boolean or String), every default filled in. Serializable so the driver can ship
 * them inside the plan.
 */
public final class ResolvedParams implements Serializable {
  private final LinkedHashMap<String, Object> values;

  public ResolvedParams(Map<String, Object> values) {
    this.values = new LinkedHashMap<>(values);
  }

  /** A copy with one more value (e.g. a side input the runner resolved, such as a global threshold). */
  public ResolvedParams with(String name, Object value) {
    LinkedHashMap<String, Object> m = new LinkedHashMap<>(values);
    m.put(name, value);
    return new ResolvedParams(m);
  }

  public Map<String, Object> asMap() {
    return Collections.unmodifiableMap(values);
  }

  public boolean has(String name) {
    return values.containsKey(name) && values.get(name) != null;
  }

  public Object get(String name) {
    if (!values.containsKey(name)) {
      throw new IllegalStateException("parameter '" + name + "' was not resolved (known: " + values.keySet() + ")");
    }
    return values.get(name);
  }

  public double getDouble(String name) {
    Object v = get(name);
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    if (v instanceof Boolean b) {
      return b ? 1 : 0;
    }
    throw new IllegalStateException("parameter '" + name + "' is not a number: " + v);
  }

  public boolean getBoolean(String name) {
    Object v = get(name);
    if (v instanceof Boolean b) {
      return b;
    }
    if (v instanceof Number n) {
      return n.doubleValue() != 0;
    }
    throw new IllegalStateException("parameter '" + name + "' is not a boolean: " + v);
  }

  public String getString(String name) {
    Object v = get(name);
    return v == null ? null : v.toString();
  }

  @Override
  public String toString() {
    return values.toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ResolvedParams r && values.equals(r.values);
  }

  @Override
  public int hashCode() {
    return values.hashCode();
  }
}
