package io.sparkmerge.plan;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Bin-packs tensors into output shards: largest cost first, each to the currently cheapest shard
 * (LPT), so the Spark tasks finish together. The shard count starts at what the byte limit needs
 * (and at least the requested partitions, when there are enough tensors) and grows until every
 * shard fits {@code maxShardBytes}.
 */
public final class ShardPacker {
  private ShardPacker() {}

  public static List<List<TensorTask>> pack(List<TensorTask> tensors, long maxShardBytes, int minShards) {
    if (tensors.isEmpty()) {
      return List.of();
    }
    long total = 0;
    long largest = 0;
    for (TensorTask t : tensors) {
      total += t.outBytes();
      largest = Math.max(largest, t.outBytes());
    }
    // A tensor larger than the limit gets a shard of its own (safetensors cannot split a tensor).
    int n = (int) Math.max(1, Math.min(tensors.size(), Math.max(minShards, ceilDiv(total, maxShardBytes))));
    List<TensorTask> order = new ArrayList<>(tensors);
    // Ties in cost are broken by name so the plan is the same on every run.
    order.sort(Comparator.comparingDouble(TensorTask::cost).reversed().thenComparing(TensorTask::name));
    while (true) {
      List<List<TensorTask>> shards = lpt(order, n);
      if (fits(shards, maxShardBytes) || n >= tensors.size()) {
        shards.removeIf(List::isEmpty);
        for (List<TensorTask> s : shards) {
          s.sort(Comparator.comparing(TensorTask::name));
        }
        // Shard order follows the first tensor name, so file 00001 holds the "earliest" tensors.
        shards.sort(Comparator.comparing(s -> s.get(0).name()));
        return shards;
      }
      n++;
    }
  }

  private static List<List<TensorTask>> lpt(List<TensorTask> order, int n) {
    List<List<TensorTask>> shards = new ArrayList<>();
    double[] cost = new double[n];
    for (int i = 0; i < n; i++) {
      shards.add(new ArrayList<>());
    }
    for (TensorTask t : order) {
      int best = 0;
      for (int i = 1; i < n; i++) {
        if (cost[i] < cost[best]) {
          best = i;
        }
      }
      shards.get(best).add(t);
      cost[best] += t.cost();
    }
    return shards;
  }

  private static boolean fits(List<List<TensorTask>> shards, long maxShardBytes) {
    for (List<TensorTask> s : shards) {
      long b = 0;
      for (TensorTask t : s) {
        b += t.outBytes();
      }
      if (b > maxShardBytes && s.size() > 1) {
        return false;
      }
    }
    return true;
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }
}
