package io.sparkmerge.cli;

import io.sparkmerge.job.ProgressOutput;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.ParseResult;

/**
 * Runs a parsed command under its {@code --progress} setting. With {@code json}, standard output
 * carries only JSON events, one per line: the stages' progress events, then one final event with the
 * command's status, exit code and OUT; everything a command prints for people goes to standard error.
 * A usage error found while parsing (exit 2) comes before this and prints no event.
 */
final class ProgressRun {
  private final PrintStream out;
  private final PrintStream err;
  private ProgressOutput.Mode mode = ProgressOutput.Mode.TEXT;
  private String command;
  private String outDir;
  private long start;

  ProgressRun(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  /** The execution strategy: the last command of the line, run with its progress output in place. */
  int execute(ParseResult parsed) {
    ParseResult last = parsed;
    while (last.subcommand() != null) {
      last = last.subcommand();
    }
    command = last.commandSpec().qualifiedName(" ").replaceFirst("^sparkmerge ?", "");
    for (PositionalParamSpec p : last.matchedPositionals()) {
      if (p.paramLabel().startsWith("OUT") && p.getValue() != null) {
        outDir = String.valueOf((Object) p.getValue());
      }
    }
    mode = last.hasMatchedOption("--progress") ? last.matchedOptionValue("--progress", ProgressOutput.Mode.TEXT)
        : ProgressOutput.Mode.TEXT;
    start = System.nanoTime();
    CommandLine top = parsed.commandSpec().commandLine();
    PrintStream stdout = System.out;
    PrintWriter topOut = top.getOut();
    ProgressOutput prev = ProgressOutput.use(mode, mode == ProgressOutput.Mode.JSON ? out : null);
    if (mode == ProgressOutput.Mode.JSON) {
      System.setOut(err);
      top.setOut(new PrintWriter(err, true));
    }
    try {
      return new CommandLine.RunLast().execute(parsed);
    } finally {
      ProgressOutput.restore(prev);
      if (mode == ProgressOutput.Mode.JSON) {
        System.setOut(stdout);
        top.setOut(topOut);
      }
    }
  }

  /** The final JSON event, once the exit code is known (after the error, if any, is printed). */
  void finish(int exitCode) {
    if (mode != ProgressOutput.Mode.JSON) {
      return;
    }
    Map<String, Object> e = new LinkedHashMap<>();
    e.put("event", "end");
    e.put("command", command);
    e.put("status", exitCode == 0 ? "ok" : "failed");
    e.put("exit_code", exitCode);
    e.put("out", outDir);
    e.put("elapsed_s", Math.round((System.nanoTime() - start) / 1e8) / 10.0);
    ProgressOutput.to(ProgressOutput.Mode.JSON, out).event(e);
  }
}
