package io.sparkmerge.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a sweep's {@code --eval} command for one candidate, on the driver ({@link #evaluate}) or as Spark tasks
 * ({@link #onExecutors}, the same code in each task): {@code {model}} in the command
 * is replaced by the candidate's path (shell-quoted), the command runs under {@code sh -c}, and the last
 * line of its standard output that is a JSON object with a numeric {@code score} (higher is better) is
 * the result. A non-zero exit, no such line, or the timeout (the command and its children are killed)
 * mark the candidate failed; the sweep goes on.
 */
final class CandidateEval implements java.io.Serializable {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** An evaluation's outcome: ok with a score and the other metrics, or failed with why. */
  record Result(boolean ok, double score, Map<String, Object> metrics, String error, double seconds)
      implements java.io.Serializable {
    static Result failed(String error, double seconds) {
      return new Result(false, Double.NaN, Map.of(), error, seconds);
    }
  }

  private final String command;
  private final double timeoutSeconds;

  CandidateEval(String command, double timeoutSeconds) {
    this.command = command;
    this.timeoutSeconds = timeoutSeconds;
  }

  /**
   * {@code --eval-on executors}: one Spark task per candidate, each running {@link #evaluate} on its executor
   * (the path must be reachable there: OUT on shared storage); the results in the order of {@code paths}. An
   * eval that fails or times out is a failed result, not a failed task, so Spark does not retry it.
   */
  List<Result> onExecutors(StageRunner runner, List<String> paths) {
    CandidateEval eval = this;
    List<List<Result>> perTask = runner.run("eval", "sparkmerge sweep: eval of " + paths.size() + " candidate(s), one task each",
        paths, paths.size(), null, (it, task) -> {
          List<Result> l = new java.util.ArrayList<>();
          it.forEachRemaining(p -> l.add(eval.evaluate(p)));
          return List.of(l);
        });
    return perTask.stream().flatMap(List::stream).toList();
  }

  Result evaluate(String modelPath) {
    long t0 = System.nanoTime();
    String cmd = command.replace("{model}", "'" + modelPath.replace("'", "'\\''") + "'");
    File log = null;
    try {
      log = File.createTempFile("sparkmerge-eval-", ".out");
      Process p = new ProcessBuilder(List.of("sh", "-c", cmd)).redirectOutput(log)
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      p.getOutputStream().close();
      if (!p.waitFor((long) (timeoutSeconds * 1000), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
        return Result.failed("eval timed out after " + timeoutSeconds + " s (--eval-timeout)", secondsSince(t0));
      }
      String out = Files.readString(log.toPath(), StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        return Result.failed("eval exited with status " + p.exitValue(), secondsSince(t0));
      }
      return parse(out, secondsSince(t0));
    } catch (IOException e) {
      return Result.failed("eval could not run: " + e.getMessage(), secondsSince(t0));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Result.failed("eval interrupted", secondsSince(t0));
    } finally {
      if (log != null && !log.delete()) {
        log.deleteOnExit();
      }
    }
  }

  /** The last stdout line that is a JSON object with a numeric score. */
  static Result parse(String stdout, double seconds) {
    String[] lines = stdout.split("\n");
    for (int i = lines.length - 1; i >= 0; i--) {
      String line = lines[i].trim();
      if (!line.startsWith("{")) {
        continue;
      }
      try {
        JsonNode n = JSON.readTree(line);
        if (n.isObject() && n.path("score").isNumber()) {
          Map<String, Object> metrics = new LinkedHashMap<>();
          n.fields().forEachRemaining(e -> {
            if (!e.getKey().equals("score")) {
              metrics.put(e.getKey(), e.getValue().isNumber() ? (Object) e.getValue().asDouble() : e.getValue().asText());
            }
          });
          double score = n.get("score").asDouble();
          return Double.isFinite(score) ? new Result(true, score, metrics, null, seconds)
              : Result.failed("eval printed a non-finite score", seconds);
        }
      } catch (IOException e) {
        // not JSON: an ordinary log line
      }
    }
    return Result.failed("eval printed no JSON object with a numeric \"score\" on its standard output", seconds);
  }

  private static double secondsSince(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }
}
