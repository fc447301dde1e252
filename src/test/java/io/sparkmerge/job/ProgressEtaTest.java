package io.sparkmerge.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The progress ETA: planned bytes left at the rate since work was first seen, none too early. */
class ProgressEtaTest {
  @Test
  void etaIsBytesLeftAtTheRateSinceFirstWork() {
    // 10 s since first work, 200 of 1000 planned bytes done in them, 300 done in all: 700 left at 20 B/s
    assertEquals(35.0, ProgressListener.eta(10, 200, 300, 1000, false), 1e-12);
    assertEquals(0.0, ProgressListener.eta(10, 200, 1000, 1000, true));
  }

  @Test
  void noEtaBeforeEnoughWorkOrTime() {
    assertTrue(Double.isNaN(ProgressListener.eta(Double.NaN, 0, 0, 1000, false)), "no work seen yet");
    assertTrue(Double.isNaN(ProgressListener.eta(2.9, 500, 500, 1000, false)), "under 3 s since first work");
    assertTrue(Double.isNaN(ProgressListener.eta(30, 49, 60, 1000, false)), "under 5% of the bytes since first work");
    assertEquals(570.6, ProgressListener.eta(30, 50, 49, 1000, false), 1e-9, "5% in 30 s: 951 bytes left at 5/3 B/s");
  }
}
