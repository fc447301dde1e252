package io.sparkmerge.cli;

import io.sparkmerge.ConfigException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Runs many sparkmerge command lines in one JVM, one after another. Each line behaves exactly as the
 * same {@code sparkmerge ...} invocation (its own Spark session, output commit, exit code); what is
 * shared is the JVM's start-up, class loading, JIT and ND4J's native libraries — seconds of CPU per
 * command, which dominate small merges (λ sweeps, schedules of many small jobs).
 */
@Command(mixinStandardHelpOptions = true, name = "batch",
    description = "Run the sparkmerge command lines in FILE (one per line, without the leading 'sparkmerge'; '#' starts a "
        + "comment; quotes group words) in this JVM, in order. Stops at the first failing line unless --keep-going; "
        + "the exit code is the first failing line's (0 when every line succeeded).",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:every line succeeded", "2:FILE is missing, has no command lines or an unbalanced quote",
        "1-4:the first failing line's exit code (as 'sparkmerge COMMAND --help' lists them)"},
    footer = {"", "Examples:", "  sparkmerge batch sweep.txt            # sweep.txt: merge ties-0.5.yml /data/m-0.5 --overwrite",
        "  generate-lines | sparkmerge batch -  --keep-going",
        "  coprocess | sparkmerge batch - --stream --keep-going   # one JVM serving a driver's commands as they come"})
final class BatchCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "FILE", description = "the command lines ('-' reads standard input)")
  String file;

  @Option(names = "--keep-going", description = "run the remaining lines after a failure")
  boolean keepGoing;

  @Option(names = "--stream", description = "run each line as soon as it is read (for a program that writes its next "
      + "command after reading the previous one's '[batch N] line N: exit C' on standard error); a malformed line fails "
      + "as that line (exit 2) instead of before anything runs")
  boolean stream;

  @Override
  public Integer call() throws IOException {
    if (stream) {
      return stream();
    }
    List<Line> lines = parse(file, read(file));
    int first = 0;
    int failed = 0;
    for (int i = 0; i < lines.size(); i++) {
      Line l = lines.get(i);
      long t0 = System.nanoTime();
      int code = Main.execute(l.args().toArray(String[]::new), System.out, System.err);
      double secs = (System.nanoTime() - t0) / 1e9;
      System.err.printf(Locale.ROOT, "[batch %d/%d] line %d: exit %d in %.1f s: %s%n", i + 1, lines.size(), l.number(), code,
          secs, String.join(" ", l.args()));
      if (code != 0) {
        failed++;
        first = first == 0 ? code : first;
        if (!keepGoing) {
          System.err.printf(Locale.ROOT, "[batch] stopped at line %d; %d line(s) not run (--keep-going runs them)%n",
              l.number(), lines.size() - i - 1);
          return code;
        }
      }
    }
    System.err.printf(Locale.ROOT, "[batch] %d line(s) run, %d failed%n", lines.size(), failed);
    return first;
  }

  /** --stream: reads, runs and reports one line at a time, so a driver can keep one JVM for a whole pipeline. */
  private int stream() throws IOException {
    InputStream in = file.equals("-") ? System.in : Files.newInputStream(existing(file));
    int first = 0;
    int failed = 0;
    int run = 0;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      int number = 0;
      for (String raw = r.readLine(); raw != null; raw = r.readLine()) {
        number++;
        int code;
        String text;
        long t0 = System.nanoTime();
        try {
          List<Line> one = parse(file, "\n".repeat(number - 1) + raw);   // padded: errors name the line's number
          text = String.join(" ", one.get(0).args());
          code = Main.execute(one.get(0).args().toArray(String[]::new), System.out, System.err);
        } catch (ConfigException e) {
          if (e.getMessage().contains("has no command lines")) {
            continue;   // a blank or comment line
          }
          System.err.println("sparkmerge batch: " + e.getMessage());
          text = raw;
          code = 2;
        }
        run++;
        System.out.flush();
        System.err.printf(Locale.ROOT, "[batch %d] line %d: exit %d in %.1f s: %s%n", run, number, code,
            (System.nanoTime() - t0) / 1e9, text);
        System.err.flush();
        if (code != 0) {
          failed++;
          first = first == 0 ? code : first;
          if (!keepGoing) {
            System.err.printf(Locale.ROOT, "[batch] stopped at line %d (--keep-going runs the lines after it)%n", number);
            return code;
          }
        }
      }
    }
    if (run == 0) {
      throw new ConfigException("batch input " + file + " has no command lines");
    }
    System.err.printf(Locale.ROOT, "[batch] %d line(s) run, %d failed%n", run, failed);
    return first;
  }

  private static Path existing(String file) {
    Path p = Path.of(file);
    if (!Files.isRegularFile(p)) {
      throw new ConfigException("batch file " + file + " does not exist or is not a file");
    }
    return p;
  }

  /** A command line of the batch file and its 1-based line number. */
  record Line(int number, List<String> args) {}

  private static String read(String file) throws IOException {
    if (file.equals("-")) {
      InputStream in = System.in;
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    return Files.readString(existing(file));
  }

  /** Splits the text into command lines; rejects unbalanced quotes and nested batches, naming the line. */
  static List<Line> parse(String source, String text) {
    List<Line> out = new ArrayList<>();
    String[] raw = text.split("\r?\n", -1);
    for (int n = 0; n < raw.length; n++) {
      List<String> words = words(source, n + 1, raw[n]);
      if (words.isEmpty()) {
        continue;
      }
      if (words.get(0).equals("sparkmerge")) {
        words = words.subList(1, words.size());
      }
      if (!words.isEmpty() && words.get(0).equals("batch")) {
        throw new ConfigException(source + " line " + (n + 1) + ": a batch cannot run another batch");
      }
      if (!words.isEmpty()) {
        out.add(new Line(n + 1, List.copyOf(words)));
      }
    }
    if (out.isEmpty()) {
      throw new ConfigException("batch file " + source + " has no command lines");
    }
    return out;
  }

  private static List<String> words(String source, int number, String line) {
    List<String> words = new ArrayList<>();
    StringBuilder cur = null;
    char quote = 0;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        } else {
          cur.append(c);
        }
      } else if (c == '\'' || c == '"') {
        quote = c;
        cur = cur == null ? new StringBuilder() : cur;
      } else if (c == '#' && cur == null) {
        break;
      } else if (Character.isWhitespace(c)) {
        if (cur != null) {
          words.add(cur.toString());
          cur = null;
        }
      } else {
        cur = cur == null ? new StringBuilder() : cur;
        cur.append(c);
      }
    }
    if (quote != 0) {
      throw new ConfigException(source + " line " + number + ": unbalanced " + quote + " quote");
    }
    if (cur != null) {
      words.add(cur.toString());
    }
    return words;
  }
}
