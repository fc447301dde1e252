package io.sparkmerge.exec;

import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Points the task's thread at the GPU Spark assigned to the task. With GPU scheduling
 * ({@code spark.executor.resource.gpu.amount}, {@code spark.task.resource.gpu.amount}; see
 * jobs/spark-submit-gpu.sh) a task owns the addresses of resource "gpu" (indices from the discovery
 * script, i.e. nvidia-smi's); ND4J's CUDA backend puts a thread's arrays on the device set for that
 * thread, so without this every task of a multi-GPU executor would use device 0. On the CPU backend,
 * or without a "gpu" resource (local mode), it does nothing.
 */
final class TaskDevice {
  private static final Logger LOG = LoggerFactory.getLogger(TaskDevice.class);

  private TaskDevice() {}

  static void bind() {
    TaskContext tc = TaskContext.get();
    if (tc == null || io.sparkmerge.math.LinearAlgebra.cpuBackend()) {
      return;
    }
    int device = device(tc.resourcesJMap(), Nd4j.getAffinityManager().getNumberOfDevices());
    if (device >= 0) {
      Nd4j.getAffinityManager().unsafeSetDevice(device);
    }
  }

  /**
   * The CUDA device of the task's first "gpu" address, or -1 (no address, or one this process cannot
   * see, e.g. where the cluster manager already restricted CUDA_VISIBLE_DEVICES: then ND4J's default
   * device is the assigned one).
   */
  static int device(Map<String, ResourceInformation> resources, int visibleDevices) {
    ResourceInformation gpu = resources.get("gpu");
    if (gpu == null || gpu.addresses().length == 0) {
      return -1;
    }
    String address = gpu.addresses()[0].trim();
    try {
      int id = Integer.parseInt(address);
      if (id >= 0 && id < visibleDevices) {
        return id;
      }
      LOG.info("task GPU address {} is not among the {} visible device(s); using ND4J's default device", address, visibleDevices);
    } catch (NumberFormatException e) {
      LOG.warn("task GPU address '{}' is not a device index; using ND4J's default device", address);
    }
    return -1;
  }
}
