package io.sparkmerge.job;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.config.ConfigLoader;
import io.sparkmerge.io.ModelDirectory;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.JacobiSvd;
import io.sparkmerge.testing.PolarReference;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * iso_cts and tsv_m through the Spark merge job on a generated family, against references built in
 * the test from a one-sided Jacobi SVD and a Newton polar factor (no LAPACK), compared by the merged
 * tensors (products), never by singular vectors. Four tasks on r = 64 leave TSV-M no zero block, so
 * the polar factors are unique and the Newton reference converges.
 */
public class SubspaceMergeJobTest {
  @TempDir static Path family;
  @TempDir Path work;
  static List<org.apache.hadoop.fs.Path> dirs;
  static Map<String, long[]> shapes = new java.util.TreeMap<>();
  static Map<String, double[]> base;
  static List<Map<String, double[]>> fts = new ArrayList<>();

  @BeforeAll
  static void generate() throws IOException {
    dirs = Checkpoints.tinyFamily(family, 11, 4);
    base = Checkpoints.read(dirs.get(0).toString());
    for (int i = 1; i <= 4; i++) {
      fts.add(Checkpoints.read(dirs.get(i).toString()));
    }
    ModelDirectory.open(Checkpoints.localFs(), dirs.get(0)).tensors().forEach((n, t) -> {
      if (t.dtype().isFloating()) { // the integer position_ids pass through (checked in MergeJobTest)
        shapes.put(n, t.shape());
      }
    });
  }

  private Map<String, double[]> merge(String method, String params) throws IOException {
    StringBuilder yaml = new StringBuilder("merge_method: " + method + "\nbase_model: " + dirs.get(0) + "\nmodels:\n");
    for (int i = 1; i < dirs.size(); i++) {
      yaml.append("  - model: ").append(dirs.get(i)).append('\n');
    }
    yaml.append("parameters: ").append(params).append("\ncompute_dtype: float64\n");
    String out = work.resolve(method).toString();
    MergeJob.run(SparkTestSession.get(), ConfigLoader.parse(yaml.toString(), method + ".yml"),
        new MergeJob.Options(out, false, 3, new PrintStream(new ByteArrayOutputStream())));
    return Checkpoints.read(out);
  }

  /** τ_t of a tensor as matrices. */
  private static double[][][] taskMatrices(String name, int m, int n) {
    double[][][] tau = new double[fts.size()][][];
    for (int t = 0; t < tau.length; t++) {
      double[] d = fts.get(t).get(name).clone();
      for (int i = 0; i < d.length; i++) {
        d[i] -= base.get(name)[i];
      }
      tau[t] = PolarReference.reshape(d, m, n);
    }
    return tau;
  }

  /** θ₀ + λ·mean τ for the tensors the subspace methods do not decompose. */
  private static double[] meanPath(String name, double lambda) {
    double[] b = base.get(name);
    double[] r = b.clone();
    for (Map<String, double[]> ft : fts) {
      for (int i = 0; i < r.length; i++) {
        r[i] += lambda * (ft.get(name)[i] - b[i]) / fts.size();
      }
    }
    return r;
  }

  private static double[] addScaled(double[] base, double[][] m, double scale) {
    double[] f = PolarReference.flatten(m);
    double[] r = base.clone();
    for (int i = 0; i < r.length; i++) {
      r[i] += scale * f[i];
    }
    return r;
  }

  private static double[][] scaleColumns(double[][] a, double[] s) {
    double[][] c = new double[a.length][s.length];
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < s.length; j++) {
        c[i][j] = a[i][j] * s[j];
      }
    }
    return c;
  }

  /** Iso-CTS exactly as methods.md §2 words it, on independent linear algebra. */
  public static double[][] isoCtsUpdate(double[][][] tau, double fraction) {
    int m = tau[0].length;
    int n = tau[0][0].length;
    int r = Math.min(m, n);
    int tasks = tau.length;
    int k = (int) Math.floor(r * fraction);
    int d = (int) Math.rint((r - k) / (double) tasks);
    k = r - tasks * d;
    double[][] delta = new double[m][n];
    for (double[][] t : tau) {
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          delta[i][j] += t[i][j];
        }
      }
    }
    JacobiSvd.Result common = JacobiSvd.svd(delta);
    double[][] uc = JacobiSvd.Result.columns(common.u(), 0, k);
    double sum = 0;
    for (int i = 0; i < k; i++) {
      sum += common.s()[i];
    }
    double[][] uStack = new double[m][r];
    double[][] vStack = new double[n][r];
    place(uStack, uc, 0);
    place(vStack, JacobiSvd.Result.columns(common.v(), 0, k), 0);
    for (int t = 0; t < tasks; t++) {
      double[][] proj = PolarReference.mul(uc, PolarReference.mul(PolarReference.transpose(uc), tau[t]));
      double[][] resid = new double[m][n];
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          resid[i][j] = tau[t][i][j] - proj[i][j];
        }
      }
      JacobiSvd.Result own = JacobiSvd.svd(resid);
      place(uStack, JacobiSvd.Result.columns(own.u(), 0, d), k + t * d);
      place(vStack, JacobiSvd.Result.columns(own.v(), 0, d), k + t * d);
      for (int i = 0; i < d; i++) {
        sum += own.s()[i];
      }
    }
    double[][] pu = PolarReference.polar(uStack);
    double[][] pv = PolarReference.polar(vStack);
    double[][] mm = PolarReference.mul(pu, PolarReference.transpose(pv));
    return scaleColumns(mm, filled(n, sum / r));
  }

  /** TSV-M as methods.md §2 words it. */
  static double[][] tsvMUpdate(double[][][] tau) {
    int m = tau[0].length;
    int n = tau[0][0].length;
    int r = Math.min(m, n);
    int d = r / tau.length;
    double[][] u = new double[m][r];
    double[][] v = new double[n][r];
    double[] s = new double[r];
    for (int t = 0; t < tau.length; t++) {
      JacobiSvd.Result svd = JacobiSvd.svd(tau[t]);
      place(u, JacobiSvd.Result.columns(svd.u(), 0, d), t * d);
      place(v, JacobiSvd.Result.columns(svd.v(), 0, d), t * d);
      System.arraycopy(svd.s(), 0, s, t * d, d);
    }
    return PolarReference.mul(scaleColumns(PolarReference.polar(u), s), PolarReference.transpose(PolarReference.polar(v)));
  }

  private static double[] filled(int n, double v) {
    double[] a = new double[n];
    java.util.Arrays.fill(a, v);
    return a;
  }

  private static void place(double[][] into, double[][] cols, int at) {
    for (int i = 0; i < into.length; i++) {
      System.arraycopy(cols[i], 0, into[i], at, cols[i].length);
    }
  }

  @Test
  void isoCtsThroughSparkMatchesTheJacobiReference() throws IOException {
    Map<String, double[]> got = merge("iso_cts", "{lambda: 0.8, common_space_fraction: 0.7, filter: embed_tokens}");
    for (var e : shapes.entrySet()) {
      String name = e.getKey();
      long[] shape = e.getValue();
      double[] ref;
      if (shape.length == 2 && !name.contains("embed_tokens")) {
        double[][] upd = isoCtsUpdate(taskMatrices(name, (int) shape[0], (int) shape[1]), 0.7);
        ref = addScaled(base.get(name), upd, 0.8);
      } else {
        ref = meanPath(name, 0.8);
      }
      double err = Checkpoints.relError(got.get(name), ref);
      assertTrue(err <= 1e-4, name + ": " + err);
    }
  }

  @Test
  void tsvMThroughSparkMatchesTheJacobiReference() throws IOException {
    Map<String, double[]> got = merge("tsv_m", "{lambda: 1.3}");
    for (var e : shapes.entrySet()) {
      String name = e.getKey();
      long[] shape = e.getValue();
      double[] ref = shape.length == 2
          ? addScaled(base.get(name), tsvMUpdate(taskMatrices(name, (int) shape[0], (int) shape[1])), 1.3)
          : meanPath(name, 1.3);
      double err = Checkpoints.relError(got.get(name), ref);
      assertTrue(err <= 1e-4, name + ": " + err);
    }
  }
}
