package io.sparkmerge.param;

import io.sparkmerge.method.MergeMethod;
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

  public static Resolved resolve(MergeMethod method, String tensorName, double t, Map<String, ParameterValue> tensorOverride,
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
        Object v = first(tensorName, t, d, tensorOverride, slice, global);
        g.put(d.name(), check(method, d, v, where));
      } else {
        for (int i = 0; i < perModel.size(); i++) {
          Object v = first(tensorName, t, d, tensorOverride, perModel.get(i), slice, global);
          pm.get(i).put(d.name(), check(method, d, v, where + ", models[" + i + "]"));
        }
      }
    }
    List<ResolvedParams> models = new ArrayList<>();
    pm.forEach(m -> models.add(new ResolvedParams(m)));
    return new Resolved(new ResolvedParams(g), models);
  }

  @SafeVarargs
  private static Object first(String tensorName, double t, ParamSpec.Def d, Map<String, ParameterValue>... layers) {
    for (Map<String, ParameterValue> layer : layers) {
      ParameterValue pv = layer.get(d.name());
      if (pv != null) {
        Object v = pv.evaluate(tensorName, t);
        if (v != null) {
          return v;
        }
      }
    }
    return d.defaultValue();
  }

  private static Object check(MergeMethod method, ParamSpec.Def d, Object v, String where) {
    if (v == null) {
      throw new ConfigException(where + ": method '" + method.name() + "' needs parameter '" + d.name()
          + "'; set it under 'parameters:' (or per model)");
    }
    return method.params().validate(method.name(), d.name(), v, where);
  }

  /** Every name must be a parameter of the method; the error suggests the nearest and lists all. */
  public static void checkKnown(MergeMethod method, Map<String, ?> params, String where) {
    for (String k : params.keySet()) {
      if (!method.params().has(k)) {
        throw new ConfigException(where + ": method '" + method.name() + "' has no parameter '" + k + "'"
            + Names.suggestion(k, method.params().defs().keySet()) + "; valid parameters: "
            + String.join(", ", method.params().defs().keySet()));
      }
    }
  }
}
