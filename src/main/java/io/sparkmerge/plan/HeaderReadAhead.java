package io.sparkmerge.plan;

import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.io.ModelDirectory;
import io.sparkmerge.lora.LoraReference;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Reads the model directories' headers a config names on a small pool, ahead of the planner, which still
 * walks the config in order and takes each directory from here ({@link #take}). The plan, and which error
 * is raised first, stay those of a sequential walk: a read that failed ahead is simply not taken, and the
 * planner reads it again itself, so its error names the config entry as before. On object stores (one
 * round trip per header) and on models of many shards this overlaps what was a sum of latencies.
 */
final class HeaderReadAhead {
  /** At most this many headers read at once: enough to overlap object-store latency, few threads. */
  static final int MAX_THREADS = 8;

  private final Map<String, Future<ModelDirectory>> pending = new HashMap<>();

  /** Starts reading every distinct path in {@code paths} (nulls skipped); a single path is left to the caller. */
  HeaderReadAhead(Configuration hadoopConf, List<String> paths) {
    Set<String> distinct = new LinkedHashSet<>();
    for (String p : paths) {
      if (p != null) {
        distinct.add(p);
      }
    }
    if (distinct.size() < 2) {
      return;
    }
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(MAX_THREADS, distinct.size()), r -> {
      Thread t = new Thread(r, "sparkmerge-header-read");
      t.setDaemon(true); // a plan that fails early does not wait for reads it no longer needs
      return t;
    });
    try {
      for (String p : distinct) {
        pending.put(p, pool.submit(() -> {
          Path dir = new Path(p);
          FileSystem fs = dir.getFileSystem(hadoopConf);
          return ModelDirectory.open(fs, dir);
        }));
      }
    } finally {
      pool.shutdown(); // the submitted reads run to their end; the threads then exit
    }
  }

  /** No read ahead (a caller that opens one model). */
  static HeaderReadAhead none() {
    return new HeaderReadAhead(null, List.of());
  }

  /** The paths whose headers a merge or analysis of {@code cfg} opens: base, models (without adapters), masks, slices. */
  static List<String> paths(MergeConfig cfg) {
    List<String> l = new ArrayList<>();
    l.add(cfg.baseModel());
    for (MergeConfig.ModelEntry e : cfg.models()) {
      l.add(LoraReference.modelPath(e.path()));
      l.add(e.masks());
    }
    if (cfg.hasSlices()) {
      l.addAll(SliceLayout.paths(cfg.slices()));
    }
    return l;
  }

  /**
   * The directory read ahead for {@code path}, once (a second open of the same path reads again, as before);
   * null when it was not read ahead or its read failed: the caller reads it and reports the error itself.
   */
  ModelDirectory take(String path) {
    Future<ModelDirectory> f = pending.remove(path);
    if (f == null) {
      return null;
    }
    try {
      return f.get();
    } catch (ExecutionException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }
}
