package io.sparkmerge.testing;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/** Starts a class's main in a separate JVM on the test classpath, with this JVM's module options. */
public final class ChildJvm {
  private ChildJvm() {}

  /** The java command line: this JVM's --add-opens and -D options, the heap given, the test classpath. */
  public static List<String> command(String heap, String mainClass, List<String> args) {
    return command(heap, List.of(), mainClass, args);
  }

  /** As {@link #command(String, String, List)}, with extra JVM options (e.g. JavaCPP's off-heap limits). */
  public static List<String> command(String heap, List<String> jvmOptions, String mainClass, List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("--add-") || a.startsWith("-XX:+IgnoreUnrecognizedVMOptions") || a.startsWith("-Djdk.reflect")
          || a.startsWith("-Dio.netty")) {
        cmd.add(a);
      }
    }
    cmd.add("-Xmx" + heap);
    cmd.addAll(jvmOptions);
    cmd.add("-Dspark.ui.enabled=false");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass);
    cmd.addAll(args);
    return cmd;
  }

  /** Starts the JVM with stdout and stderr going to {@code log}. */
  public static Process start(String heap, String mainClass, List<String> args, File log) throws IOException {
    return start(heap, List.of(), mainClass, args, log);
  }

  /** Starts the JVM with extra JVM options, stdout and stderr going to {@code log}. */
  public static Process start(String heap, List<String> jvmOptions, String mainClass, List<String> args, File log)
      throws IOException {
    return new ProcessBuilder(command(heap, jvmOptions, mainClass, args)).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.to(log)).start();
  }

  /** A condition on files a child process writes. */
  public interface Ready {
    boolean get() throws IOException;
  }

  /**
   * Waits (up to 150 s) until {@code ready} holds while the child is alive, then kills it (SIGKILL) and
   * waits for it to exit; fails, with the child's log, when it ended first or never got ready.
   */
  public static void killWhenReady(Process child, Ready ready, File log) throws IOException, InterruptedException {
    try {
      long deadline = System.currentTimeMillis() + 150_000;
      while (!ready.get() && child.isAlive() && System.currentTimeMillis() < deadline) {
        Thread.sleep(100);
      }
      org.junit.jupiter.api.Assertions.assertTrue(child.isAlive(),
          "the child ended before it could be killed: " + java.nio.file.Files.readString(log.toPath()));
      org.junit.jupiter.api.Assertions.assertTrue(ready.get(),
          "not ready within the time limit: " + java.nio.file.Files.readString(log.toPath()));
    } finally {
      child.destroyForcibly();
      org.junit.jupiter.api.Assertions.assertTrue(child.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "killed child exited");
    }
  }
}
