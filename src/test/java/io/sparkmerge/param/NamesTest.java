package io.sparkmerge.param;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

class NamesTest {
  @Test
  void suggestsNearestName() {
    assertEquals(" (did you mean 'ties'?)", Names.suggestion("tise", List.of("ties", "linear", "dare_ties")));
    assertEquals("", Names.suggestion("completely_else", List.of("ties", "linear")));
  }

  @Test
  void nd4jBackendLoads() {
    assertEquals(6.0, Nd4j.createFromArray(1f, 2f, 3f).sumNumber().doubleValue(), 0.0);
  }
}
