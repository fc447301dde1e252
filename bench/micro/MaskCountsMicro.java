import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.util.Random;

/**
 * Nanoseconds per entry of method.MaskCounts.add (the TIES family's mask counters) on blocks of 16384 random
 * masks (3 models, 30 % kept), 3000 blocks a round, 3 rounds (the first warms the JIT). Not a test: run it
 * against the classes of two builds, one after the other, to compare them:
 *   javac -d /tmp/micro bench/micro/MaskCountsMicro.java
 *   java -cp target/classes:/tmp/micro MaskCountsMicro
 */
public class MaskCountsMicro {
  public static void main(String[] args) throws Exception {
    int n = 16384;
    int models = 3;
    Random r = new Random(1);
    boolean[][] keep = new boolean[models][n];
    for (boolean[] k : keep) {
      for (int i = 0; i < n; i++) {
        k[i] = r.nextDouble() < 0.3;
      }
    }
    Constructor<?> ctor = Class.forName("io.sparkmerge.method.MaskCounts").getDeclaredConstructor(int.class, long.class);
    ctor.setAccessible(true);
    Object counts = ctor.newInstance(models, 0L);
    Method add = counts.getClass().getDeclaredMethod("add", boolean[][].class, int.class);
    add.setAccessible(true);
    for (int round = 0; round < 3; round++) {
      long t0 = System.nanoTime();
      for (int b = 0; b < 3000; b++) {
        add.invoke(counts, keep, n);
      }
      System.out.printf("round %d: %.2f ns per entry%n", round, (System.nanoTime() - t0) / 3000.0 / n);
    }
  }
}
