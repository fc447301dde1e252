package io.sparkmerge.method;

import io.sparkmerge.math.DeterministicRandom;
import io.sparkmerge.math.InputRounding;
import io.sparkmerge.math.MagnitudeCut;
import java.util.Arrays;

/**
 * Random sparsification of one model's τ (methods.md §1): DARE keeps each entry with probability d,
 * DELLA with d − ε + 2ε·r, r the rank of |τ| within its row scaled to [0, 1] ({@link Draw}).
 * Survivors are rescaled: {@code rescale: true} by ‖τ‖₁ / ‖kept τ‖₁ over the tensor (one preparation
 * pass), {@code inverse} by 1 / p_i, {@code false} not at all.
 */
final class RandomSparsifier implements Sparsifier {
  /** How survivors are rescaled. */
  enum Rescale {
    NONE, L1, INVERSE;

    /** From the method's {@code rescale} parameter: true, false or "inverse". */
    static Rescale of(Object parameter) {
      return "inverse".equals(parameter) ? INVERSE : Boolean.TRUE.equals(parameter) ? L1 : NONE;
    }
  }

  /**
   * The random mask of one model: entry i is kept when u(seed, tensor, model, i) < p_i, so the mask is
   * a pure function of the entry's flat index and its row, whatever the block.
   *
   * @param della DELLA's magnitude-ranked probabilities, else DARE's constant d
   * @param rngKey {@link DeterministicRandom#key} of (seed, tensor, model)
   * @param floatKeys magnitudes ranked at float precision (float32 compute)
   */
  record Draw(boolean della, double density, double epsilon, long rngKey, boolean floatKeys) {
    /** keep[0..n) and the keep probabilities of a block of whole rows starting at flat index flat0. */
    void mask(long flat0, double[] tau, int n, int rowLength, boolean[] keep, double[] prob) {
      if (density >= 1) {
        Arrays.fill(keep, 0, n, true);
        Arrays.fill(prob, 0, n, 1.0);
        return;
      }
      if (della) {
        dellaProbabilities(tau, n, rowLength, prob);
      } else {
        Arrays.fill(prob, 0, n, density);
      }
      for (int i = 0; i < n; i++) {
        keep[i] = DeterministicRandom.uniform(rngKey, flat0 + i) < prob[i];
      }
    }

    /** Per row: rank |τ| ascending (stable: lower index first), r = rank/(L − 1) (0.5 for L = 1), p = d − ε + 2ε·r. */
    private void dellaProbabilities(double[] tau, int n, int rowLength, double[] prob) {
      Integer[] idx = new Integer[rowLength];
      for (int row = 0; row * rowLength < n; row++) {
        int off = row * rowLength;
        for (int j = 0; j < rowLength; j++) {
          idx[j] = j;
        }
        Arrays.sort(idx, (a, c) -> {
          int cmp = Double.compare(MagnitudeCut.key(tau[off + a], floatKeys), MagnitudeCut.key(tau[off + c], floatKeys));
          return cmp != 0 ? cmp : Integer.compare(a, c);
        });
        for (int rank = 0; rank < rowLength; rank++) {
          double r = rowLength == 1 ? 0.5 : (double) rank / (rowLength - 1);
          prob[off + idx[rank]] = density - epsilon + 2 * epsilon * r;
        }
      }
    }
  }

  private final Draw draw;
  private final Rescale rescale;
  private final InputRounding rounding;
  private double l1All;
  private double l1Kept;
  private double factor = Double.NaN;
  private boolean[] keepScratch = new boolean[0];
  private double[] probScratch = new double[0];

  /** @param rounding compute_dtype: input: the L1 factor as mergekit computes it on 16-bit tensors */
  RandomSparsifier(Draw draw, Rescale rescale, InputRounding rounding) {
    this.draw = draw;
    this.rescale = rescale;
    this.rounding = rounding;
  }

  @Override
  public int preparationPasses() {
    return rescale == Rescale.L1 ? 1 : 0;
  }

  /** The L1 pass: ‖τ‖₁ and the ‖·‖₁ of the entries the mask keeps. */
  @Override
  public void prepare(int pass, long flat0, double[] tau, int n, int rowLength) {
    if (keepScratch.length < n) {
      keepScratch = new boolean[n];
      probScratch = new double[n];
    }
    draw.mask(flat0, tau, n, rowLength, keepScratch, probScratch);
    for (int i = 0; i < n; i++) {
      double a = Math.abs(tau[i]);
      l1All += a;
      if (keepScratch[i]) {
        l1Kept += a;
      }
    }
  }

  @Override
  public void mask(long flat0, double[] tau, int n, int rowLength, boolean[] keep, double[] scale) {
    draw.mask(flat0, tau, n, rowLength, keep, scale);
    if (rescale == Rescale.INVERSE) {
      for (int i = 0; i < n; i++) {
        scale[i] = 1.0 / scale[i];
      }
      return;
    }
    if (Double.isNaN(factor)) {
      factor = rescale != Rescale.L1 || l1All < 1e-7 || l1Kept < 1e-7 ? 1.0 : l1All / l1Kept;
      if (rounding.active() && factor != 1.0) {
        factor = rounding.div(rounding.round((float) l1All), rounding.round((float) l1Kept));
      }
    }
    Arrays.fill(scale, 0, n, factor);
  }
}
