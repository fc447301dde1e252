package io.sparkmerge.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;

/** Which CUDA device a task's "gpu" resource maps to. */
class TaskDeviceTest {
  static Map<String, ResourceInformation> gpus(String... addresses) {
    return Map.of("gpu", new ResourceInformation("gpu", addresses));
  }

  @Test
  void theTasksFirstGpuAddressIsItsDevice() {
    assertEquals(1, TaskDevice.device(gpus("1"), 2));
    assertEquals(0, TaskDevice.device(gpus(" 0 ", "1"), 2));
    assertEquals(-1, TaskDevice.device(gpus("3"), 2), "not visible here (CUDA_VISIBLE_DEVICES): ND4J's default device");
    assertEquals(-1, TaskDevice.device(gpus("GPU-5a7c"), 2), "not an index");
    assertEquals(-1, TaskDevice.device(gpus(), 2));
    assertEquals(-1, TaskDevice.device(Map.of(), 2), "no GPU scheduling (local mode)");
  }
}
