package io.sparkmerge.exec;

import io.sparkmerge.io.SafetensorsWriter;
import io.sparkmerge.method.MergeMethod;
import io.sparkmerge.method.MethodRegistry;
import io.sparkmerge.method.ScaledMerge;
import io.sparkmerge.method.TensorMerge;
import io.sparkmerge.plan.MergePlan;
import io.sparkmerge.plan.ShardPlan;
import io.sparkmerge.plan.TensorTask;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * The executor side of a sweep: one output shard of every candidate, in one task. The candidates are
 * plans of one layout (same shards, same tensors) that differ only in parameters. Each tensor's input
 * rows are read once per pass ({@link ChunkReader#drive}) and one output tensor is written per candidate,
 * into the candidate's own staging directory, chunk by chunk as it is computed.
 *
 * <p>Candidates whose tasks for a tensor differ only by λ share one merge: when it is a
 * {@link ScaledMerge} the expensive part (selections, sign election, random masks, SVDs) is computed
 * once and θ₀ + λ_k·U is written per candidate; candidates with identical tasks share one merge outright.
 */
public final class CandidateShardTask implements AutoCloseable {
  private final List<MergePlan> plans;
  private final int partition;
  /** Candidate 0's task: reads and decodes the chunks, encodes every candidate's outputs. */
  private final ShardTask reader;

  public CandidateShardTask(List<MergePlan> plans, int partition, Configuration conf) {
    this.plans = plans;
    this.partition = partition;
    this.reader = new ShardTask(plans.get(0), partition, conf);
  }

  /** Writes shard {@code partition} of candidate c into {@code stagingDirs.get(c)}; one result per candidate. */
  public List<ShardResult> run(List<String> stagingDirs, int attempt, FaultInjection faults, ShardTask.Progress progress)
      throws IOException {
    long start = System.currentTimeMillis();
    int k = plans.size();
    List<ShardPlan> shards = new ArrayList<>();
    List<Path> files = new ArrayList<>();
    List<SafetensorsWriter> writers = new ArrayList<>();
    List<List<TensorResult>> results = new ArrayList<>();
    List<List<String>> warnings = new ArrayList<>();
    try {
      for (int c = 0; c < k; c++) {
        ShardPlan s = plans.get(c).shards().get(partition);
        shards.add(s);
        files.add(ShardTask.attemptFile(stagingDirs.get(c), s, attempt));
        writers.add(reader.writer(s, files.get(c)));
        results.add(new ArrayList<>());
        warnings.add(new ArrayList<>());
      }
      int count = shards.get(0).tensors().size();
      for (int i = 0; i < count; i++) {
        if (i == count / 2) {
          faults.maybeFail(partition, attempt);
        }
        TensorTask[] tasks = new TensorTask[k];
        for (int c = 0; c < k; c++) {
          tasks[c] = shards.get(c).tensors().get(i);
        }
        long before = reader.bytesRead();
        if (tasks[0].isRawCopy()) {
          TensorResult r = reader.copyRaw(tasks[0], writers);
          results.forEach(l -> l.add(r));
        } else {
          merge(tasks, writers, results, warnings);
        }
        progress.tensorDone(reader.bytesRead() - before);
      }
      faults.maybeFail(partition, attempt);
      List<ShardResult> out = new ArrayList<>();
      long millis = System.currentTimeMillis() - start;
      for (int c = 0; c < k; c++) {
        writers.get(c).close();
        out.add(ShardTask.finished(shards.get(c), attempt, files.get(c), writers.get(c), results.get(c), reader.bytesRead(),
            millis, warnings.get(c)));
      }
      return out;
    } finally {
      for (SafetensorsWriter w : writers) {
        try {
          w.close(); // a no-op after a successful run; after a failure it deletes the partial file
        } catch (IOException | RuntimeException e) {
          // the failure that brought us here is the one to report
        }
      }
    }
  }

  /** One tensor for every candidate: its groups' merges driven over one read of the inputs. */
  private void merge(TensorTask[] tasks, List<SafetensorsWriter> writers, List<List<TensorResult>> results,
      List<List<String>> warnings) throws IOException {
    MergeMethod method = MethodRegistry.get(tasks[0].method());
    List<Group> groups = groups(tasks, method);
    ValueStats[] stats = new ValueStats[tasks.length];
    for (int c = 0; c < tasks.length; c++) {
      stats[c] = new ValueStats();
    }
    List<TensorMerge> merges = new ArrayList<>();
    groups.forEach(g -> merges.add(g.merge));
    try {
      // the candidates share the chunks: the coarsest split any of them needs
      io.sparkmerge.method.Chunking chunking = io.sparkmerge.method.Chunking.ELEMENTS;
      for (TensorMerge m : merges) {
        io.sparkmerge.method.Chunking c = m.chunking(method.chunking());
        chunking = c.ordinal() > chunking.ordinal() ? c : chunking;
      }
      reader.chunks.drive(tasks[0], chunking, merges, chunk -> {
        for (Group g : groups) {
          g.mergeChunk(chunk, tasks, stats, writers);
        }
      });
      for (Group g : groups) {
        Map<String, Double> counters = new java.util.TreeMap<>(g.merge.counters());
        for (int c : g.members) {
          results.get(c).add(reader.result(tasks[c], stats[c], counters, warnings.get(c)));
        }
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    } finally {
      merges.forEach(TensorMerge::close);
    }
  }

  /**
   * The candidates grouped by their task without λ; a group whose λs differ is kept together only when
   * its merge is a {@link ScaledMerge}, else split into one merge per candidate.
   */
  private List<Group> groups(TensorTask[] tasks, MergeMethod method) {
    Map<List<Object>, List<Integer>> byKey = new LinkedHashMap<>();
    for (int c = 0; c < tasks.length; c++) {
      TensorTask t = tasks[c];
      if (!t.method().equals(tasks[0].method())) {
        throw new IllegalStateException("tensor " + t.name() + ": candidates merge it with " + tasks[0].method() + " and "
            + t.method() + "; a sweep's candidates differ only in parameters");
      }
      var global = t.global().has("lambda") ? t.global().with("lambda", 0.0) : t.global();
      byKey.computeIfAbsent(List.of(global, t.perModel(), t.sides().toString(), String.valueOf(t.rounding())),
          x -> new ArrayList<>()).add(c);
    }
    List<Group> groups = new ArrayList<>();
    for (List<Integer> members : byKey.values()) {
      double[] lambdas = new double[members.size()];
      boolean same = true;
      for (int j = 0; j < lambdas.length; j++) {
        TensorTask t = tasks[members.get(j)];
        lambdas[j] = t.global().has("lambda") ? t.global().getDouble("lambda") : Double.NaN;
        same &= Double.compare(lambdas[j], lambdas[0]) == 0;
      }
      TensorMerge m = method.begin(reader.context(tasks[members.get(0)]));
      if (same || m instanceof ScaledMerge) {
        groups.add(new Group(members, same ? null : lambdas, m));
        continue;
      }
      groups.add(new Group(List.of(members.get(0)), null, m));
      for (int j = 1; j < members.size(); j++) {
        groups.add(new Group(List.of(members.get(j)), null, method.begin(reader.context(tasks[members.get(j)]))));
      }
    }
    return groups;
  }

  /** Candidates computed by one merge: the same task (lambdas null), or the same but for λ (a ScaledMerge). */
  private final class Group {
    final List<Integer> members;
    final double[] lambdas;
    final TensorMerge merge;

    Group(List<Integer> members, double[] lambdas, TensorMerge merge) {
      this.members = members;
      this.lambdas = lambdas;
      this.merge = merge;
    }

    /** Merges one chunk and writes each member's output as soon as it is computed. */
    void mergeChunk(io.sparkmerge.method.TensorChunk chunk, TensorTask[] tasks, ValueStats[] stats,
        List<SafetensorsWriter> writers) throws IOException {
      if (lambdas != null) {
        ((ScaledMerge) merge).mergeScaled(chunk, lambdas, (j, out) -> {
          int c = members.get(j);
          try {
            reader.emit(tasks[c], out, stats[c], writers.get(c));
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
        return;
      }
      var out = merge.merge(chunk);
      for (int j = 0; j < members.size(); j++) {
        int c = members.get(j);
        reader.emit(tasks[c], j == members.size() - 1 ? out : out.dup('c'), stats[c], writers.get(c));
      }
    }
  }

  @Override
  public void close() {
    reader.close();
  }
}
