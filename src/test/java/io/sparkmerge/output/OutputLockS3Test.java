package io.sparkmerge.output;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.OutputExistsException;
import io.sparkmerge.testing.S3Server;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The lock heartbeat on S3: S3A's setTimes does nothing, so a live run's lock generation must be kept
 * fresh by rewriting it, or a second writer would take it over once the timeout has passed (and the
 * first run would then stop, having lost it).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class OutputLockS3Test {
  @RegisterExtension static final S3Server S3 = new S3Server();

  @Test
  void aLiveRunsLockOnS3IsNotTakenOverAfterTheTimeout() throws Exception {
    FileSystem fs = S3.fs();
    Path work = new Path(S3.uri("out/.locked.sparkmerge"));
    long timeoutMs = 3_000; // heartbeat every 750 ms
    OutputLock first = new OutputLock(fs, work, "out/locked", "first", timeoutMs);
    first.acquire(() -> {});
    try {
      Thread.sleep(3 * timeoutMs);
      OutputLock second = new OutputLock(fs, work, "out/locked", "second", timeoutMs);
      OutputExistsException e = assertThrows(OutputExistsException.class, () -> second.acquire(() -> {}));
      assertTrue(e.getMessage().contains("is being written by another sparkmerge run (run first"), e.getMessage());
      assertDoesNotThrow(first::checkHeld, "the first run still holds its lock");
    } finally {
      first.close();
    }
    // released: a new run takes it at once
    OutputLock third = new OutputLock(fs, work, "out/locked", "third", timeoutMs);
    third.acquire(() -> {});
    third.checkHeld();
    third.close();
  }
}
