package io.sparkmerge.plan;

import io.sparkmerge.ConfigException;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.param.ParameterValue;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * The candidates of a sweep (no Spark, no files): grid axes parsed from {@code --grid}, their cartesian
 * product, each candidate's config, and the refinement rounds that zoom in around the best value (log
 * space for log axes) or extend an axis whose best value lies at its edge.
 */
public final class SweepPlan {
  private SweepPlan() {}

  /**
   * One axis of the grid.
   *
   * @param name as written: a method-wide parameter ({@code lambda}), or {@code models.I.NAME} for model I's
   * @param model -1 for a method-wide parameter, else the index into {@code models:}
   * @param param the parameter's name
   * @param values the values tried so far, ascending (refinement adds to them)
   * @param log whether refinement works in log space (log grids, or every value positive)
   */
  public record Axis(String name, int model, String param, List<Double> values, boolean log) {

    /** {@code NAME=a:b:log:n}, {@code NAME=a:b:lin:n} or {@code NAME=v1,v2,…}. */
    public static Axis parse(String spec) {
      int eq = spec.indexOf('=');
      if (eq <= 0 || eq == spec.length() - 1) {
        throw new ConfigException("--grid " + spec + ": expected NAME=a:b:log:n, NAME=a:b:lin:n or NAME=v1,v2,...");
      }
      String name = spec.substring(0, eq).trim();
      String body = spec.substring(eq + 1).trim();
      int model = -1;
      String param = name;
      if (name.startsWith("models.")) {
        String[] p = name.split("\\.", 3);
        try {
          model = Integer.parseInt(p[1]);
          param = p[2];
        } catch (RuntimeException e) {
          throw new ConfigException("--grid " + spec + ": a model's parameter is written models.I.NAME (I counts from 0)");
        }
      }
      TreeSet<Double> values = new TreeSet<>();
      boolean log;
      try {
        String[] r = body.split(":");
        if (r.length == 4) {
          double a = Double.parseDouble(r[0]);
          double b = Double.parseDouble(r[1]);
          int n = Integer.parseInt(r[3]);
          log = r[2].equals("log");
          if (!log && !r[2].equals("lin") || n < 2 || log && (a <= 0 || b <= 0) || a >= b) {
            throw new ConfigException("--grid " + spec + ": a range is a:b:log:n or a:b:lin:n with a < b, n ≥ 2 (log: a > 0)");
          }
          for (int i = 0; i < n; i++) {
            double f = i / (double) (n - 1);
            values.add(round(log ? Math.exp(Math.log(a) + f * (Math.log(b) - Math.log(a))) : a + f * (b - a)));
          }
        } else {
          for (String v : body.split(",")) {
            values.add(Double.parseDouble(v.trim()));
          }
          log = values.first() > 0 && values.size() > 1;
        }
      } catch (NumberFormatException e) {
        throw new ConfigException("--grid " + spec + ": not a number: " + e.getMessage());
      }
      return new Axis(name, model, param, List.copyOf(values), log);
    }

    Axis with(double v) {
      TreeSet<Double> s = new TreeSet<>(values);
      s.add(v);
      return new Axis(name, model, param, List.copyOf(s), log);
    }
  }

  /** One candidate: a value per axis (in axis order) and its id, a directory name made of them. */
  public record Candidate(String id, Map<String, Double> values) {
    static Candidate of(Map<String, Double> values) {
      StringBuilder id = new StringBuilder();
      values.forEach((k, v) -> id.append(id.length() == 0 ? "" : "_").append(k.replace('.', '-')).append('=').append(format(v)));
      return new Candidate(id.toString(), java.util.Collections.unmodifiableMap(new LinkedHashMap<>(values)));
    }
  }

  /** Four significant digits: grid values readable in ids and exact in YAML. */
  static double round(double v) {
    return new BigDecimal(v).round(new MathContext(4)).doubleValue();
  }

  /** The shortest decimal that reads back as v. */
  public static String format(double v) {
    return new BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
  }

  /** Every combination of the axes' values, the first axis varying slowest. */
  public static List<Candidate> grid(List<Axis> axes) {
    List<Map<String, Double>> rows = new ArrayList<>();
    rows.add(new LinkedHashMap<>());
    for (Axis a : axes) {
      List<Map<String, Double>> next = new ArrayList<>();
      for (Map<String, Double> r : rows) {
        for (double v : a.values()) {
          Map<String, Double> m = new LinkedHashMap<>(r);
          m.put(a.name(), v);
          next.add(m);
        }
      }
      rows = next;
    }
    return rows.stream().map(Candidate::of).toList();
  }

  /**
   * One refinement round around {@code best}: per axis (the others held at best's values), the log (or
   * arithmetic) midpoints between best's value and its neighbours, or, when best's value is the axis'
   * smallest or largest, one more step outwards (a positive linear axis is halved rather than stepped to ≤ 0). Returns the new axes and the candidates not yet tried.
   */
  public static Refinement refine(List<Axis> axes, Map<String, Double> best, java.util.Set<String> tried) {
    List<Axis> newAxes = new ArrayList<>(axes);
    List<Candidate> fresh = new ArrayList<>();
    for (int i = 0; i < axes.size(); i++) {
      Axis a = axes.get(i);
      List<Double> v = a.values();
      int at = v.indexOf(best.get(a.name()));
      if (v.size() < 2 || at < 0) {
        continue;
      }
      List<Double> add = new ArrayList<>();
      if (at == 0) {
        double step = 2 * v.get(0) - v.get(1);
        // a positive linear axis (a density) is not stepped to zero or below: halve instead
        add.add(a.log() ? v.get(0) * v.get(0) / v.get(1) : step <= 0 && v.get(0) > 0 ? v.get(0) / 2 : step);
      } else {
        add.add(mid(a, v.get(at - 1), v.get(at)));
      }
      if (at == v.size() - 1) {
        add.add(a.log() ? v.get(at) * v.get(at) / v.get(at - 1) : 2 * v.get(at) - v.get(at - 1));
      } else {
        add.add(mid(a, v.get(at), v.get(at + 1)));
      }
      for (double x : add) {
        double r = round(x);
        Map<String, Double> m = new LinkedHashMap<>();
        for (Axis b : axes) {
          m.put(b.name(), b == a ? r : best.get(b.name()));
        }
        Candidate c = Candidate.of(m);
        if (!tried.contains(c.id()) && fresh.stream().noneMatch(f -> f.id().equals(c.id()))) {
          fresh.add(c);
          newAxes.set(i, newAxes.get(i).with(r));
        }
      }
    }
    return new Refinement(newAxes, fresh);
  }

  /** A refinement round's result. */
  public record Refinement(List<Axis> axes, List<Candidate> candidates) {}

  private static double mid(Axis a, double lo, double hi) {
    return a.log() ? Math.sqrt(lo * hi) : (lo + hi) / 2;
  }

  /**
   * The config of a candidate: each axis' value set as a method-wide parameter (and on every model entry
   * that sets it itself, so the grid wins over the entries) or on its model's entry; {@code tensors:}
   * overrides keep precedence. The config text records the candidate for the manifest.
   */
  public static MergeConfig configFor(MergeConfig cfg, List<Axis> axes, Candidate c) {
    Map<String, ParameterValue> global = new LinkedHashMap<>(cfg.parameters());
    List<MergeConfig.ModelEntry> models = new ArrayList<>(cfg.models());
    for (Axis a : axes) {
      ParameterValue v = ParameterValue.parse(c.values().get(a.name()), a.param());
      if (a.model() >= models.size()) {
        throw new ConfigException("--grid " + a.name() + ": the config has " + models.size() + " models (models.0 .. models."
            + (models.size() - 1) + ")");
      }
      for (int m = 0; m < models.size(); m++) {
        MergeConfig.ModelEntry e = models.get(m);
        if (m == a.model() || a.model() < 0 && e.parameters().containsKey(a.param())) {
          Map<String, ParameterValue> p = new LinkedHashMap<>(e.parameters());
          p.put(a.param(), v);
          models.set(m, new MergeConfig.ModelEntry(e.path(), p, e.masks(), e.importance(), e.activations(), e.taskVector()));
        }
      }
      if (a.model() < 0) {
        global.put(a.param(), v);
      }
    }
    String text = String.format(Locale.ROOT, "# sparkmerge sweep candidate %s (the grid's values override the text below)%n%s",
        c.id(), cfg.rawYaml() == null ? "" : cfg.rawYaml());
    return new MergeConfig(cfg.mergeMethod(), cfg.baseModel(), List.copyOf(models), java.util.Collections.unmodifiableMap(global),
        cfg.outDtype(), cfg.computeDouble(), cfg.seed(), cfg.tensors(), cfg.outShardSize(), cfg.copy(), cfg.allowNonfinite(), text,
        cfg.slices(), cfg.tokenizerSource(), cfg.chatTemplate(), cfg.computeInput(), cfg.mergekitDtype(), cfg.tokenizer());
  }
}
