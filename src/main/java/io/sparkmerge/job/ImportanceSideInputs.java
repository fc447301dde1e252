package io.sparkmerge.job;

import io.sparkmerge.exec.TensorLoader;
import io.sparkmerge.ConfigException;
import io.sparkmerge.InputDataException;
import io.sparkmerge.io.ImportanceTables;
import io.sparkmerge.io.SafetensorsHeader;
import io.sparkmerge.io.TensorCodec;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.io.TensorReader;
import io.sparkmerge.io.ImportanceRow;
import io.sparkmerge.method.MethodRegistry;
import io.sparkmerge.method.ModuleImportance;
import io.sparkmerge.method.SideInput;
import io.sparkmerge.method.SideValues;
import io.sparkmerge.param.ResolvedParams;
import io.sparkmerge.plan.InputModel;
import io.sparkmerge.plan.MergePlan;
import io.sparkmerge.plan.ShardPlan;
import io.sparkmerge.plan.TensorTask;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Per-tensor densities of methods that read module importances (methods.md §4, LEWIS), resolved on
 * the driver before the merge: each model's importances come from a table ({@code importance:
 * FILE}), or are computed by executors, one task per module, from activation statistics
 * ({@code activations: DIR} holding {@code base.safetensors} and {@code finetuned.safetensors}, F32
 * vectors named by module path) or from the task vector ({@code importance: task_vector_norm}, a
 * proxy that is not LEWIS). The method turns them into densities ({@link SideInput.Importances}); each
 * scored tensor gets its own in its side-input values, and they are printed as a per-layer table and
 * reported in the manifest.
 */
public final class ImportanceSideInputs {
  static final String TASK_VECTOR_NORM = "task_vector_norm";

  private ImportanceSideInputs() {}

  /** The plan with densities filled in, and what the manifest reports about them. */
  record Resolved(MergePlan plan, Map<String, Object> report) {}

  /** One module of one model whose importances executors compute. */
  record Unit(String tensor, int model, boolean fromActivations) implements Serializable {}

  /** A unit's (base, fine-tune) importances, as an executor returns them. */
  record Scored(Unit unit, double[] importances) implements Serializable {}

  static Resolved resolve(SparkSession spark, MergePlan plan, int partitions, PrintStream console) throws IOException {
    SideInput.Importances.Scoring scoring = SideInput.of(MethodRegistry.get(plan.method()), SideInput.Importances.class)
        .map(SideInput.Importances::scoring).orElse(null);
    if (scoring == null) {
      return new Resolved(plan, Map.of());
    }
    Map<String, ImportanceRow> modules = new TreeMap<>();
    for (ShardPlan s : plan.shards()) {
      for (TensorTask t : s.tensors()) {
        ImportanceRow m = t.isRawCopy() || t.modelIndices() != null || !plan.method().equals(t.method()) ? null : scoring.module(t.name());
        if (m != null) {
          modules.put(t.name(), m);
        }
      }
    }
    int models = plan.models().size();
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    List<List<ImportanceRow>> rows = new ArrayList<>();
    List<Unit> units = new ArrayList<>();
    Map<String, Object> sources = new LinkedHashMap<>();
    for (int i = 0; i < models; i++) {
      InputModel m = plan.models().get(i);
      rows.add(new ArrayList<>());
      if (m.importance() != null && !TASK_VECTOR_NORM.equals(m.importance())) {
        Path p = new Path(m.importance());
        rows.set(i, ImportanceTables.read(p.getFileSystem(conf), p));
        sources.put(m.role(), "table " + m.importance());
      } else if (m.activations() != null || TASK_VECTOR_NORM.equals(m.importance())) {
        if (m.activations() != null && m.importance() != null) {
          throw new ConfigException(m.role() + ": give either 'importance:' or 'activations:', not both");
        }
        boolean act = m.activations() != null;
        sources.put(m.role(), act ? "activation statistics " + m.activations()
            : "task_vector_norm (‖τ‖_F per module: a data-free proxy, NOT LEWIS)");
        for (String tensor : modules.keySet()) {
          // computed importances score the Linear layers' 2-D weights (norm weights have no activation statistics)
          if (m.dir().tensors().get(tensor).shape().length == 2) {
            units.add(new Unit(tensor, i, act));
          }
        }
      } else {
        throw new ConfigException(m.role() + " (" + m.path() + "): merge_method " + plan.method() + " needs module importances:"
            + " add 'importance: <table.csv|.json|.parquet>', 'activations: <dir>' or 'importance: task_vector_norm' to the entry");
      }
    }
    if (!units.isEmpty()) {
      for (Map.Entry<Unit, double[]> e : compute(spark, plan, units, partitions, console).entrySet()) {
        Unit u = e.getKey();
        rows.get(u.model()).add(modules.get(u.tensor()).with(e.getValue()[0], e.getValue()[1]));
      }
    }
    ResolvedParams global = plan.globalDefaults();
    List<Map<String, Double>> densities = new ArrayList<>();
    for (int i = 0; i < models; i++) {
      densities.add(scoring.densities(rows.get(i), global));
    }
    sources.forEach((role, src) -> console.println(plan.method() + " importances of " + role + ": " + src));
    console.print(table(plan, modules, densities));
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("importance_sources", sources);
    Map<String, Object> perModel = new LinkedHashMap<>();
    for (int i = 0; i < models; i++) {
      perModel.put(plan.models().get(i).role(), new TreeMap<>(densities.get(i)));
    }
    report.put("densities", perModel);
    return new Resolved(withDensities(plan, modules, densities), report);
  }

  private static MergePlan withDensities(MergePlan plan, Map<String, ImportanceRow> modules, List<Map<String, Double>> densities) {
    return plan.mapMerged(t -> {
      ImportanceRow m = modules.get(t.name());
      SideValues sides = t.sides();
      for (int i = 0; m != null && i < sides.models(); i++) {
        Double d = densities.get(i).get(m.key());
        if (d != null) {
          sides = sides.withImportanceDensity(i, d);
        }
      }
      return t.withSides(sides);
    });
  }

  /** Per-layer table: one line per (layer, component), one density column per model. */
  static String table(MergePlan plan, Map<String, ImportanceRow> modules, List<Map<String, Double>> densities) {
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%s densities per layer (1 = not scored)%n%6s  %-24s",
        plan.method(), "layer", "component"));
    for (InputModel m : plan.models()) {
      sb.append(String.format(Locale.ROOT, " %10s", m.role()));
    }
    sb.append('\n');
    Map<String, ImportanceRow> byKey = new TreeMap<>((a, b) -> {
      int la = Integer.parseInt(a.substring(0, a.indexOf('/')));
      int lb = Integer.parseInt(b.substring(0, b.indexOf('/')));
      return la != lb ? Integer.compare(la, lb) : a.compareTo(b);
    });
    modules.values().forEach(m -> byKey.put(m.key(), m));
    for (ImportanceRow m : byKey.values()) {
      sb.append(String.format(Locale.ROOT, "%6d  %-24s", m.layer(), m.component()));
      for (Map<String, Double> d : densities) {
        sb.append(String.format(Locale.ROOT, " %10.4f", d.getOrDefault(m.key(), 1.0)));
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  /** Executors: (base, fine-tune) importance of each unit's module. */
  private static Map<Unit, double[]> compute(SparkSession spark, MergePlan plan, List<Unit> units, int partitions,
      PrintStream console) {
    StageRunner runner = new StageRunner(spark, plan.runId(), console);
    Broadcast<MergePlan> planB = runner.broadcast(plan);
    int p = Math.max(1, Math.min(partitions, units.size()));
    List<Scored> got = runner.run("importance", String.format(Locale.ROOT,
        "sparkmerge module importances: %d modules in %d partitions", units.size(), p), units, p, null, (it, task) -> {
          List<Scored> out = new ArrayList<>();
          try (TensorLoader loader = new TensorLoader(task.conf(), DataType.DOUBLE, false)) {
            while (it.hasNext()) {
              Unit u = it.next();
              out.add(new Scored(u, importance(planB.value(), u, loader, task.conf())));
            }
          }
          return out;
        });
    Map<Unit, double[]> result = new LinkedHashMap<>();
    got.forEach(e -> result.put(e.unit(), e.importances()));
    return result;
  }

  private static double[] importance(MergePlan plan, Unit u, TensorLoader loader, Configuration conf) throws IOException {
    InputModel model = plan.models().get(u.model());
    TensorInfo info = model.dir().tensors().get(u.tensor());
    long rows = info.rows();
    long rowLength = info.rowLength();
    long perBlock = Math.max(1, plan.chunkBytes() / Math.max(1, rowLength * 8));
    double[] aBase = null;
    double[] aFt = null;
    if (u.fromActivations()) {
      String module = u.tensor().endsWith(".weight") ? u.tensor().substring(0, u.tensor().length() - 7) : u.tensor();
      aBase = vector(conf, new Path(model.activations(), "base.safetensors"), module, rowLength);
      aFt = vector(conf, new Path(model.activations(), "finetuned.safetensors"), module, rowLength);
    }
    double base = 0;
    double ft = 0;
    for (long r = 0; r < rows; r += perBlock) {
      long n = Math.min(perBlock, rows - r);
      double[] b = values(loader.rows(plan.base(), u.tensor(), r, n, false));
      double[] x = values(loader.rows(model, u.tensor(), r, n, false));
      if (u.fromActivations()) {
        base += ModuleImportance.wandaSquares(b, b.length, aBase);
        ft += ModuleImportance.wandaSquares(x, x.length, aFt);
      } else {
        ft += ModuleImportance.taskVectorSquares(x, b, x.length);
      }
    }
    return new double[] {Math.sqrt(base), Math.sqrt(ft)};
  }

  /** A module's activation statistics: a float vector of the module's input width, all finite and ≥ 0. */
  private static double[] vector(Configuration conf, Path file, String module, long width) throws IOException {
    FileSystem fs = file.getFileSystem(conf);
    if (!fs.exists(file)) {
      throw new InputDataException("activation statistics " + file + " do not exist; 'activations:' must name a directory"
          + " with base.safetensors and finetuned.safetensors (tools/collect_activation_stats.py writes them)");
    }
    SafetensorsHeader h = SafetensorsHeader.read(fs, file);
    TensorInfo t = h.tensors().get(module);
    if (t == null) {
      throw new InputDataException(file + " has no statistics for module " + module + "; collect them for every Linear layer");
    }
    if (t.numel() != width || !t.dtype().isFloating()) {
      throw new InputDataException(file + ": statistics of " + module + " are " + t.dtype() + " " + t.shapeString()
          + "; expected a float vector of the module's " + width + " input channels");
    }
    byte[] raw = new byte[(int) t.byteLength()];
    try (TensorReader r = new TensorReader(fs, file)) {
      r.readFully(t.fileOffset(), raw, 0, raw.length);
    }
    double[] v;
    try (INDArray a = org.nd4j.linalg.factory.Nd4j.createUninitialized(DataType.DOUBLE, width)) {
      TensorCodec.decode(t.dtype(), ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN), a);
      v = a.toDoubleVector();
    }
    for (double x : v) {
      if (!(x >= 0) || Double.isInfinite(x)) {
        throw new InputDataException(file + ": statistics of " + module + " hold " + x + "; mean squared activations are finite and ≥ 0");
      }
    }
    return v;
  }

  private static double[] values(INDArray a) {
    try (a) {
      return a.data().asDouble();
    }
  }
}
