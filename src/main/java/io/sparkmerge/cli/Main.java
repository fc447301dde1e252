package io.sparkmerge.cli;

import io.sparkmerge.Messages;
import io.sparkmerge.SparkmergeException;
import io.sparkmerge.Version;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * sparkmerge's entry point ({@code bin/sparkmerge} or {@code spark-submit --class io.sparkmerge.cli.Main}).
 * Exit codes (DESIGN.md §4): 0 ok, 2 bad usage or config, 3 bad input data, 4 output exists, 1 anything else.
 * Errors print as one line; --verbose adds the stack trace.
 */
@Command(name = "sparkmerge", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
    description = "Merge neural-network checkpoints (safetensors) as an Apache Spark job.",
    footer = {"", "Examples:", "  sparkmerge demo", "  sparkmerge merge jobs/mergekit/ties.yml /data/merged --dry-run",
        "  sparkmerge subspaces jobs/ties.yml /data/sub --report sub.html", "  sparkmerge report /data/merged merged.html",
        "  sparkmerge merge --help      # every command's --help ends with examples of it"},
    subcommands = {MergeCommand.class, SubspacesCommand.class, InspectCommand.class, SynthCommand.class, DemoCommand.class,
        CheckpointsCommand.class,
        SweepCommand.class,
        StatsCommand.class,
        ReportCommand.class,
        VerifyCommand.class,
        ScopesCommand.class,
        MasksCommand.class,
        TaskVectorsCommand.class,
        ExtractLoraCommand.class,
        BatchCommand.class,
        RecoverCommand.class,
        CommandLine.HelpCommand.class})
public final class Main implements java.util.concurrent.Callable<Integer> {
  @Option(names = "--verbose", description = "print stack traces of errors", scope = CommandLine.ScopeType.INHERIT)
  boolean verbose;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** No command given: the usage with every command, on stderr, and exit code 2 (bad usage). */
  @Override
  public Integer call() {
    java.io.PrintWriter err = spec.commandLine().getErr();
    err.println("sparkmerge: missing command; the commands are:");
    spec.commandLine().usage(err);
    return 2;
  }

  public static void main(String[] args) {
    LogConfig.apply(System.getenv(LogConfig.ENV));
    int code = execute(args, System.out, System.err);
    System.exit(code);
  }

  /** Runs a command line and returns its exit code (tests call this instead of main). */
  public static int execute(String[] args, PrintStream out, PrintStream err) {
    if (java.util.Arrays.asList(args).contains("--verbose")) {
      // the bundled log4j2.xml silences Spark's per-task failure traces; --verbose wants them
      for (String logger : new String[] {"org.apache.spark.executor.Executor", "org.apache.spark.scheduler.TaskSetManager",
          "org.apache.spark.scheduler.DAGScheduler"}) {
        org.apache.logging.log4j.core.config.Configurator.setLevel(logger, org.apache.logging.log4j.Level.WARN);
      }
    }
    Main main = new Main();
    CommandLine cl = new CommandLine(main);
    cl.setOut(new java.io.PrintWriter(out, true));
    cl.setErr(new java.io.PrintWriter(err, true));
    HelpFormat.install(cl);
    cl.setExitCodeExceptionMapper(t -> exitCode(t));
    cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
      Throwable t = unwrap(ex);
      err.println("sparkmerge: " + (t instanceof SparkmergeException ? "" : "error: ") + oneLine(t));
      if (main.verbose) {
        t.printStackTrace(err);
      }
      return exitCode(t);
    });
    cl.setParameterExceptionHandler((ex, a) -> {
      err.println("sparkmerge: " + Messages.cut(Messages.printable(String.valueOf(ex.getMessage())), Messages.MAX_LINE));
      err.println("Try 'sparkmerge " + (ex.getCommandLine().getCommandName().equals("sparkmerge") ? "" : ex.getCommandLine().getCommandName() + " ") + "--help' for usage.");
      return 2;
    });
    ProgressRun run = new ProgressRun(out, err);
    cl.setExecutionStrategy(run::execute);
    int code = cl.execute(args);
    run.finish(code);
    return code;
  }

  static int exitCode(Throwable t) {
    Throwable u = unwrap(t);
    return u instanceof SparkmergeException s ? s.exitCode() : 1;
  }

  /** Spark wraps task failures; the user wants the first sparkmerge error inside. */
  static Throwable unwrap(Throwable t) {
    Throwable cur = t;
    for (int depth = 0; cur != null && depth < 20; depth++, cur = cur.getCause()) {
      if (cur instanceof SparkmergeException) {
        return cur;
      }
    }
    // A task-side SparkmergeException reaches the driver as a SparkException whose message carries it.
    String msg = String.valueOf(t.getMessage());
    for (String type : new String[] {"io.sparkmerge.InputDataException: ", "io.sparkmerge.ConfigException: "}) {
      int i = msg.indexOf(type);
      if (i >= 0) {
        String rest = msg.substring(i + type.length());
        int nl = rest.indexOf('\n');
        rest = nl >= 0 ? rest.substring(0, nl) : rest;
        return type.startsWith("io.sparkmerge.Input") ? new io.sparkmerge.InputDataException(rest, t)
            : new io.sparkmerge.ConfigException(rest, t);
      }
    }
    return t instanceof UncheckedIOException && t.getCause() != null ? t.getCause() : t;
  }

  /** The message's first line, control characters escaped, cut at {@link Messages#MAX_LINE} characters. */
  static String oneLine(Throwable t) {
    String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    int nl = m.indexOf('\n');
    m = nl >= 0 ? m.substring(0, nl) : m;
    return Messages.cut(Messages.printable(m), Messages.MAX_LINE);
  }

  static final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"sparkmerge " + Version.VERSION};
    }
  }
}
