package io.sparkmerge.job;

import io.sparkmerge.io.CheckpointDiscovery.Checkpoint;
import io.sparkmerge.math.WsmWeights;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.IntFunction;

/**
 * The checkpoints one WSM merge takes (methods.md §5) and their Theorem 3.1 weights: the anchor just before
 * the window (or null) and the window's checkpoints, oldest first. The weights come from the actual step
 * gaps ({@link WsmWeights#atSteps}), so unevenly spaced checkpoints are weighed by where their intervals
 * fall on the decay curve.
 *
 * @param note what the console should know about the choice (uneven gaps, a span longer than asked), or null
 */
public record WsmWindow(Checkpoint anchor, List<Checkpoint> checkpoints, WsmWeights.Result weights, String note) {

  /**
   * Which checkpoints a merge takes: the k newest ({@code count} &gt; 0), or those of the newest
   * {@code steps} training steps ({@code steps} &gt; 0: the anchor is the newest checkpoint at or before
   * step s_newest − steps, the window everything after it), taking every {@code stride}-th complete
   * checkpoint counting back from the newest.
   *
   * @param weigher the schedule's equally spaced weights for a window of k
   */
  public record Rule(int count, long steps, int stride, IntFunction<WsmWeights.Result> weigher) {
    public Rule {
      if ((count > 0) == (steps > 0) || stride < 1) {
        throw new IllegalArgumentException("a WSM window needs exactly one of count and steps, and stride >= 1");
      }
    }

    /** How many complete checkpoints the rule needs before it can merge (for the waiting message). */
    public String needs() {
      String every = stride > 1 ? " (every " + stride + "th)" : "";
      return count > 0 ? (count + (anchorWeight() > 0 ? 1 : 0)) + " checkpoints" + every
          : "checkpoints spanning " + steps + " steps" + every;
    }

    double anchorWeight() {
      return count > 0 ? weigher.apply(count).anchor() : 0;
    }
  }

  public long step() {
    return checkpoints.get(checkpoints.size() - 1).step();
  }

  /** The newest window of the complete checkpoints (oldest first), or null when there are not enough of them yet. */
  public static WsmWindow newest(List<Checkpoint> complete, Rule rule) {
    List<Checkpoint> picked = new ArrayList<>();
    for (int i = complete.size() - 1; i >= 0; i -= rule.stride()) {
      picked.add(0, complete.get(i));
    }
    int n = picked.size();
    Checkpoint anchor;
    List<Checkpoint> win;
    String note = null;
    if (rule.count() > 0) {
      int k = rule.count();
      if (n < k + (rule.anchorWeight() > 0 ? 1 : 0)) {
        return null;
      }
      anchor = n > k ? picked.get(n - k - 1) : null;
      win = List.copyOf(picked.subList(n - k, n));
    } else {
      if (n == 0) {
        return null;
      }
      long start = picked.get(n - 1).step() - rule.steps();
      int a = n - 1;
      while (a >= 0 && picked.get(a).step() > start) {
        a--;
      }
      if (a < 0) {
        return null;   // no checkpoint at or before the window's start yet
      }
      anchor = picked.get(a);
      win = List.copyOf(picked.subList(a + 1, n));
      if (anchor.step() != start) {
        note = String.format(Locale.ROOT, "no checkpoint at step %d: the window starts at step %d (%d steps, not %d)", start,
            anchor.step(), picked.get(n - 1).step() - anchor.step(), rule.steps());
      }
    }
    WsmWeights.Result equal = rule.weigher().apply(win.size());
    double[] steps = new double[win.size() + 1];
    for (int j = 0; j < win.size(); j++) {
      steps[j + 1] = win.get(j).step();
    }
    // without an anchor the first interval is taken as long as the next one (one checkpoint: no interval at all)
    steps[0] = anchor != null ? anchor.step() : win.size() > 1 ? 2 * steps[1] - steps[2] : steps[1] - 1;
    WsmWeights.Result w = WsmWeights.atSteps(equal, steps);
    if (w != equal) {
      List<Long> all = new ArrayList<>();
      if (anchor != null) {
        all.add(anchor.step());
      }
      win.forEach(c -> all.add(c.step()));
      String uneven = "uneven step gaps " + all + ": weights from the gaps (each interval takes the curve's multiplier at its start)";
      note = note == null ? uneven : note + "; " + uneven;
    }
    return new WsmWindow(anchor, win, w, note);
  }
}
