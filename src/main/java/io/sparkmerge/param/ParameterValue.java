package io.sparkmerge.param;

import io.sparkmerge.ConfigException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A parameter as written in a config (methods.md §0, mergekit's rules): a scalar; a list of numbers
 * (a gradient over the layers); a list of strings or booleans (steps); or a list of conditions
 * {@code {filter: ..., value: ...}} whose first match wins. {@link #evaluate} gives the value at a
 * tensor of position t, or null when no condition matches (precedence then falls through).
 */
public sealed interface ParameterValue extends Serializable
    permits ParameterValue.Scalar, ParameterValue.Gradient, ParameterValue.Steps, ParameterValue.Conditions {

  /** The value for this tensor (Double, Boolean or String), or null if a condition list has no match. */
  Object evaluate(String tensorName, double t);

  static ParameterValue parse(Object yaml, String where) {
    if (yaml == null) {
      throw new ConfigException(where + ": a parameter needs a value");
    }
    if (yaml instanceof Number n) {
      return new Scalar(n.doubleValue());
    }
    if (yaml instanceof Boolean || yaml instanceof String) {
      return new Scalar(yaml);
    }
    if (yaml instanceof List<?> list) {
      if (list.isEmpty()) {
        throw new ConfigException(where + ": an empty list is not a parameter value");
      }
      if (list.stream().allMatch(o -> o instanceof Number)) {
        double[] v = new double[list.size()];
        for (int i = 0; i < v.length; i++) {
          v[i] = ((Number) list.get(i)).doubleValue();
        }
        return new Gradient(v);
      }
      if (list.stream().allMatch(o -> o instanceof String || o instanceof Boolean)) {
        return new Steps(new ArrayList<>(list));
      }
      if (list.stream().allMatch(o -> o instanceof Map)) {
        List<Condition> conds = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
          Map<?, ?> m = (Map<?, ?>) list.get(i);
          String w = where + "[" + i + "]";
          for (Object k : m.keySet()) {
            if (!"filter".equals(k) && !"value".equals(k)) {
              throw new ConfigException(w + ": unknown key '" + k + "' in a condition; use {filter: ..., value: ...}");
            }
          }
          if (!m.containsKey("value")) {
            throw new ConfigException(w + ": a condition needs a 'value'");
          }
          ParameterValue v = parse(m.get("value"), w + ".value");
          if (v instanceof Conditions) {
            throw new ConfigException(w + ".value: a condition's value must be a scalar or a gradient, not another condition list");
          }
          Object f = m.get("filter");
          conds.add(new Condition(f == null ? null : f.toString(), v));
        }
        return new Conditions(conds);
      }
      throw new ConfigException(where + ": a list must hold only numbers (a gradient), only strings/booleans, "
          + "or only {filter, value} conditions; got " + list);
    }
    throw new ConfigException(where + ": '" + yaml + "' is not a scalar, a gradient list or a condition list");
  }

  /** A plain value. */
  record Scalar(Object value) implements ParameterValue {
    @Override
    public Object evaluate(String tensorName, double t) {
      return value;
    }

    @Override
    public String toString() {
      return String.valueOf(value);
    }
  }

  /** A list of numbers interpolated linearly at s = t·(n − 1). */
  record Gradient(double[] v) implements ParameterValue {
    @Override
    public Object evaluate(String tensorName, double t) {
      int n = v.length;
      if (n == 1) {
        return v[0];
      }
      double s = t * (n - 1);
      int i0 = (int) Math.floor(s);
      i0 = Math.max(0, Math.min(n - 1, i0));
      int i1 = Math.min(n - 1, i0 + 1);
      double frac = s - i0;
      return (1 - frac) * v[i0] + frac * v[i1];
    }

    @Override
    public String toString() {
      return java.util.Arrays.toString(v);
    }
  }

  /** A list of strings or booleans: v[⌊t·(n − 1)⌋]. */
  record Steps(List<Object> v) implements ParameterValue {
    @Override
    public Object evaluate(String tensorName, double t) {
      int i = (int) Math.floor(t * (v.size() - 1));
      return v.get(Math.max(0, Math.min(v.size() - 1, i)));
    }

    @Override
    public String toString() {
      return v.toString();
    }
  }

  /** One {@code {filter, value}} entry. */
  record Condition(String filter, ParameterValue value) implements Serializable {}

  /** The first condition whose filter matches the tensor name gives the value. */
  record Conditions(List<Condition> conditions) implements ParameterValue {
    @Override
    public Object evaluate(String tensorName, double t) {
      for (Condition c : conditions) {
        if (NameFilter.matches(c.filter(), tensorName)) {
          return c.value().evaluate(tensorName, t);
        }
      }
      return null;
    }

    @Override
    public String toString() {
      return conditions.toString();
    }
  }
}
