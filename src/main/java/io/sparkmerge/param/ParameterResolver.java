package io.sparkmerge.param;

import io.sparkmerge.ConfigException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Resolves a method's parameters for one tensor (methods.md §0): tensor override > the model's
 * parameters > the slice's > the method-wide {@code parameters:} > the method's default. Method-wide
 * (GLOBAL) parameters are not looked up per model. Every resolved value is validated by the method's
 * {@link ParamSpec}; unknown names are errors that list the valid ones.
 */
public final class ParameterResolver {
  private ParameterResolver() {}

  /** Resolved values: method-wide, and one set per model. */
  public record Resolved(ResolvedParams global, List<ResolvedParams> perModel) {}

  public static Resolved resolve(ParamOwner method, String tensorName, double t, Map<String, ParameterValue> tensorOverride,
      List<Map<String, ParameterValue>> perModel, Map<String, ParameterValue> slice, Map<String, ParameterValue> global) {
    String where = tensorName.isEmpty() ? "method '" + method.name() + "'" : "tensor " + tensorName;
    checkKnown(method, tensorOverride, where + " (tensors: override)");
    checkKnown(method, slice, where + " (slice parameters)");
    checkKnown(method, global, "parameters");
    for (int i = 0; i < perModel.size(); i++) {
      checkKnown(method, perModel.get(i), "models[" + i + "]");
    }
    ParamSpec spec = method.params();
    Map<String, Object> g = new LinkedHashMap<>();
    List<Map<String, Object>> pm = new ArrayList<>();
    for (int i = 0; i < perModel.size(); i++) {
      pm.add(new LinkedHashMap<>());
    }
    for (ParamSpec.Def d : spec.defs().values()) {
      if (d.scope() == ParamSpec.Scope.GLOBAL) {
        for (int i = 0; i < perModel.size(); i++) {
          if (perModel.get(i).containsKey(d.name())) {
            throw new ConfigException("models[" + i + "]: parameter '" + d.name() + "' of method '" + method.name()
                + "' applies to the whole merge; move it to the top-level 'parameters:'");
          }
        }
        Object v = lookup(d.name(), tensorName, t, d.defaultValue(), List.of(tensorOverride, slice, global));
        g.put(d.name(), check(method, d, v, where));
      } else {
        for (int i = 0; i < perModel.size(); i++) {
          Object v = lookup(d.name(), tensorName, t, d.defaultValue(), List.of(tensorOverride, perModel.get(i), slice, global));
          pm.get(i).put(d.name(), check(method, d, v, where + ", models[" + i + "]"));
        }
      }
    }
    List<ResolvedParams> models = new ArrayList<>();
    pm.forEach(m -> models.add(new ResolvedParams(m)));
    return new Resolved(new ResolvedParams(g), models);
  }

  /**
   * methods.md §0's precedence, the one rule: the first layer (highest precedence first) whose value
   * for {@code name} is set and applies at this tensor (a condition list may not apply), else
   * {@code fallback}.
   */
  public static Object lookup(String name, String tensorName, double t, Object fallback, List<Map<String, ParameterValue>> layers) {
    for (Map<String, ParameterValue> layer : layers) {
      ParameterValue pv = layer.get(name);
      if (pv != null) {
        Object v = pv.evaluate(tensorName, t);
        if (v != null) {
          return v;
        }
      }
    }
    return fallback;
  }

  /** The value as written in the first layer that sets {@code name} (unevaluated, for reports), or null. */
  public static ParameterValue declared(String name, List<Map<String, ParameterValue>> layers) {
    for (Map<String, ParameterValue> layer : layers) {
      if (layer.get(name) != null) {
        return layer.get(name);
      }
    }
    return null;
  }

  /** The method-wide parameters of a job, from its {@code parameters:} and the defaults (for the manifest). */
  public static ResolvedParams resolveGlobal(ParamOwner method, Map<String, ParameterValue> global) {
    checkKnown(method, global, "parameters");
    Map<String, Object> g = new LinkedHashMap<>();
    for (ParamSpec.Def d : method.params().defs().values()) {
      if (d.scope() == ParamSpec.Scope.GLOBAL) {
        g.put(d.name(), check(method, d, lookup(d.name(), "", 0.0, d.defaultValue(), List.of(global)), "method '" + method.name() + "'"));
      }
    }
    return new ResolvedParams(g);
  }

  private static Object check(ParamOwner method, ParamSpec.Def d, Object v, String where) {
    if (v == null) {
      throw new ConfigException(where + ": method '" + method.name() + "' needs parameter '" + d.name()
          + "'; set it under 'parameters:' (or per model)");
    }
    return method.params().validate(method.name(), d.name(), v, where);
  }

  /** Every name must be a parameter of the method; the error suggests the nearest and lists all. */
  public static void checkKnown(ParamOwner method, Map<String, ?> params, String where) {
    for (String k : params.keySet()) {
      if (!method.params().has(k)) {
        throw new ConfigException(where + ": method '" + method.name() + "' has no parameter '" + k + "'"
            + Names.suggestion(k, method.params().defs().keySet()) + "; valid parameters: "
            + String.join(", ", method.params().defs().keySet()));
      }
    }
  }
}
