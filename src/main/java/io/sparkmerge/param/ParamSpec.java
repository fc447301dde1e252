package io.sparkmerge.param;

import io.sparkmerge.ConfigException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The parameters a method accepts. Each has a scope: {@link Scope#PER_MODEL} values may differ per
 * entry of {@code models:} (weight, density); {@link Scope#GLOBAL} values apply to the whole merge
 * of a tensor (normalize, lambda). A default of null means the parameter is required.
 */
public final class ParamSpec {

  public enum Scope {
    GLOBAL,
    PER_MODEL
  }

  public enum Kind {
    NUMBER,
    BOOLEAN,
    STRING,
    /** true, false or a string (e.g. {@code rescale: true | false | inverse}). */
    BOOLEAN_OR_STRING
  }

  /**
   * One parameter.
   *
   * @param check validates a resolved value; {@code requirement} says in words what it must be
   */
  public record Def(String name, Scope scope, Kind kind, Object defaultValue, Predicate<Object> check, String requirement) {}

  private final LinkedHashMap<String, Def> defs = new LinkedHashMap<>();

  public static ParamSpec builder() {
    return new ParamSpec();
  }

  public ParamSpec add(String name, Scope scope, Kind kind, Object defaultValue) {
    return add(name, scope, kind, defaultValue, v -> true, "");
  }

  public ParamSpec add(String name, Scope scope, Kind kind, Object defaultValue, Predicate<Object> check, String requirement) {
    defs.put(name, new Def(name, scope, kind, defaultValue, check, requirement));
    return this;
  }

  /**
   * A number in an interval written as in mathematics, e.g. {@code "(0, 1]"} or {@code "[0, 1)"}; the
   * requirement in messages reads "in (0, 1]".
   */
  public ParamSpec addRange(String name, Scope scope, Object defaultValue, String interval) {
    String[] b = interval.substring(1, interval.length() - 1).split(",");
    double lo = Double.parseDouble(b[0].trim());
    double hi = Double.parseDouble(b[1].trim());
    boolean loIn = interval.charAt(0) == '[';
    boolean hiIn = interval.charAt(interval.length() - 1) == ']';
    return add(name, scope, Kind.NUMBER, defaultValue, v -> {
      double x = ((Number) v).doubleValue();
      return (loIn ? x >= lo : x > lo) && (hiIn ? x <= hi : x < hi);
    }, "in " + interval);
  }

  public Map<String, Def> defs() {
    return Collections.unmodifiableMap(defs);
  }

  public boolean has(String name) {
    return defs.containsKey(name);
  }

  /**
   * Checks one resolved value's kind and requirement; throws a {@link ConfigException} that names
   * {@code where} (e.g. "model models/ft-math, tensor model.layers.0.mlp.up_proj.weight").
   */
  public Object validate(String method, String name, Object value, String where) {
    Def d = defs.get(name);
    if (d == null) {
      throw new ConfigException(where + ": method '" + method + "' has no parameter '" + name
          + "'; valid parameters: " + String.join(", ", defs.keySet()));
    }
    boolean kindOk = switch (d.kind()) {
      case NUMBER -> value instanceof Number;
      case BOOLEAN -> value instanceof Boolean;
      case STRING -> value instanceof String;
      case BOOLEAN_OR_STRING -> value instanceof Boolean || value instanceof String;
    };
    if (!kindOk) {
      throw new ConfigException(where + ": parameter '" + name + "' of method '" + method + "' must be a "
          + d.kind().name().toLowerCase().replace('_', ' ') + ", got '" + io.sparkmerge.Messages.brief(value) + "'");
    }
    if (value instanceof Number n && !Double.isFinite(n.doubleValue())) {
      throw new ConfigException(where + ": parameter '" + name + "' of method '" + method + "' is " + io.sparkmerge.Messages.brief(value)
          + "; it must be a finite number");
    }
    if (!d.check().test(value)) {
      throw new ConfigException(where + ": parameter '" + name + "' of method '" + method + "' is " + value
          + "; it must be " + d.requirement());
    }
    return value;
  }
}
