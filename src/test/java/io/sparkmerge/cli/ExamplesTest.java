package io.sparkmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.ChildJvm;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every example of every command's --help and every {@code bin/sparkmerge} line of the README runs as
 * written, on a synth tiny family standing in for the models they name. The only changes: absolute
 * paths move under a sandbox W ({@code /data/x} → {@code W/data/x}, {@code hdfs:///x} → {@code W/hdfs/x},
 * {@code s3a://models/x} → {@code W/data/x}: the S3 tests run the same commands against S3Proxy),
 * the shipped jobs/ configs are copied into W/jobs with their model paths moved the same way, the 1b
 * family of the synth example is generated tiny, and {@code --watch} stops after one poll. The user
 * files the examples name (merge.yml, ties.yml, clients.yml, ties-0.5.yml) are jobs/ configs; sweep.txt,
 * merge-with-lora.yml and score.sh are written here.
 * All examples run, in one child JVM with W as its working directory, through
 * {@code generate-lines | sparkmerge batch - --keep-going} (itself an example); the batch-file example
 * runs in a second one.
 */
class ExamplesTest {
  @TempDir Path w;

  /** The examples of every --help, then the README's: one command line each, without "sparkmerge". */
  static List<String> examples() throws IOException {
    Set<String> out = new LinkedHashSet<>();
    List<String> helps = new ArrayList<>();
    helps.add(MainTest.run("--help").out());
    CliHelpTest.commands().forEach(c -> helps.add(MainTest.run(c, "--help").out()));
    for (String h : helps) {
      CliHelpTest.examples(h).forEach(l -> out.add(l.strip()));
    }
    boolean bash = false;
    StringBuilder cont = null;
    for (String l : Files.readAllLines(Path.of("README.md"))) {
      if (l.startsWith("```")) {
        bash = l.equals("```bash");
      } else if (bash && l.startsWith("bin/sparkmerge ")) {
        cont = new StringBuilder(l.substring("bin/".length()));
      } else if (bash && cont != null) { // a continuation line of the command above
        cont.append(' ').append(l.strip());
      }
      if (cont != null && !cont.toString().endsWith("\\")) {
        out.add(cont.toString());
        cont = null;
      } else if (cont != null) {
        cont.setLength(cont.length() - 1);
      }
    }
    List<String> lines = new ArrayList<>();
    for (String l : out) {
      int hash = l.indexOf(" #");
      lines.add((hash >= 0 ? l.substring(0, hash) : l).strip());
    }
    return new ArrayList<>(new LinkedHashSet<>(lines));
  }

  /** Absolute paths into the sandbox; the one size and watch changes the class comment names. */
  String localize(String line) {
    String s = line.replace("hdfs:///", "/hdfs/").replace("s3a://models/", "/data/").replace("--family 1b", "--family tiny");
    Matcher m = Pattern.compile("(^|[\\s=:])(/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.()|-]*)*)").matcher(s);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(sb, Matcher.quoteReplacement(m.group(1) + w + m.group(2)));
    }
    m.appendTail(sb);
    s = sb.toString();
    return s.contains(" --watch") && !s.contains("--max-polls") ? s + " --max-polls 1" : s;
  }

  void family() throws IOException {
    List<org.apache.hadoop.fs.Path> gen = Checkpoints.tinyFamily(w.resolve("gen"), 31, 3);
    Path base = Path.of(gen.get(0).toString());
    Path[] ft = {Path.of(gen.get(1).toString()), Path.of(gen.get(2).toString()), Path.of(gen.get(3).toString())};
    copy(base, "data/models/base", "models/base", "hdfs/models/base");
    copy(ft[0], "models/ft", "data/models/ft-math", "data/models/ft-1", "data/models/model-a", "data/clients/client-a", "models/ft-math",
        "hdfs/models/ft-math");
    copy(ft[1], "data/models/ft-code", "data/models/ft-2", "data/models/model-b", "data/clients/client-b");
    copy(ft[2], "data/models/ft-chat", "data/models/ft-3", "data/clients/client-c");
    for (int i = 1; i <= 9; i++) { // a training run with 9 checkpoints (the largest --window is 8)
      Path from = i == 1 ? base : ft[i % 3];
      copy(from, "runs/r1/checkpoint-" + i * 1000, "hdfs/runs/r1/checkpoint-" + i * 1000);
    }
    try (Stream<Path> s = Files.walk(Path.of("jobs"))) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        Path dst = w.resolve(p.toString());
        Files.createDirectories(dst.getParent());
        if (p.toString().endsWith(".yml")) {
          Files.writeString(dst, Files.readString(p).replace(" /data/", " " + w + "/data/"));
        } else {
          Files.copy(p, dst);
        }
      }
    }
    for (String[] user : new String[][] {{"merge.yml", "ties.yml"}, {"ties.yml", "ties.yml"}, {"ties-0.5.yml", "ties.yml"}, {"clients.yml", "wsa.yml"}}) {
      Files.copy(w.resolve("jobs").resolve(user[1]), w.resolve(user[0]));
    }
    Files.writeString(w.resolve("merge-with-lora.yml"), "merge_method: linear\nmodels:\n"
        + "  - model: " + w + "/models/base+" + w + "/data/lora-ft\n    parameters: {weight: 0.5}\n"
        + "  - model: " + w + "/data/models/ft-code\n    parameters: {weight: 0.5}\n");
    Path score = w.resolve("score.sh"); // the sweep example's --eval: one JSON object with a score
    Files.writeString(score, "#!/bin/sh\necho '{\"score\": 1.0}'\n");
    score.toFile().setExecutable(true);
    Files.writeString(w.resolve("sweep.txt"), localize("merge ties-0.5.yml /data/m-0.5 --overwrite") + "\n");
    Files.createDirectories(w.resolve("tmp"));
  }

  private void copy(Path from, String... to) throws IOException {
    for (String t : to) {
      Path dst = w.resolve(t);
      Files.createDirectories(dst);
      try (Stream<Path> s = Files.list(from)) {
        for (Path f : s.toList()) {
          Files.copy(f, dst.resolve(f.getFileName()));
        }
      }
    }
  }

  /** Runs Main with W as the working directory; returns exit code and output. */
  String[] runInSandbox(List<String> args, String stdin, String name) throws Exception {
    File log = w.resolve(name + ".log").toFile();
    ProcessBuilder pb = new ProcessBuilder(ChildJvm.command("3g", List.of("-Djava.io.tmpdir=" + w.resolve("tmp")),
        "io.sparkmerge.cli.Main", args)).directory(w.toFile()).redirectErrorStream(true).redirectOutput(log);
    Process p = pb.start();
    if (stdin != null) {
      p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
    }
    p.getOutputStream().close();
    boolean done = p.waitFor(1200, TimeUnit.SECONDS);
    if (!done) {
      p.destroyForcibly();
    }
    return new String[] {done ? String.valueOf(p.exitValue()) : "timeout", Files.readString(log.toPath())};
  }

  @Test
  void everyExampleRunsAsWritten() throws Exception {
    family();
    List<String> all = examples();
    assertTrue(all.size() >= 30, "examples found: " + all);
    // synth first (the README inspects its family), reports last (they read the others' outputs)
    List<String> batchLines = all.stream().filter(l -> !l.contains("sparkmerge batch"))
        .map(l -> l.substring(l.indexOf("sparkmerge ") + "sparkmerge ".length()))
        .sorted(Comparator.comparingInt(l -> l.startsWith("synth ") ? 0 : l.startsWith("report ") ? 2 : 1)).map(this::localize)
        .toList();
    List<String> batchExamples = all.stream().filter(l -> l.contains("sparkmerge batch")).toList();
    // the piped ones read another program's lines: generate-lines as the batch run below does, coprocess as
    // BatchCommandTest#streamRunsEachLineAsItArrivesAndAMalformedLineFailsAsThatLine does
    assertEquals(List.of("sparkmerge batch sweep.txt", "generate-lines | sparkmerge batch -  --keep-going",
        "coprocess | sparkmerge batch - --stream --keep-going"), batchExamples);

    String[] r = runInSandbox(List.of("batch", "-", "--keep-going"), String.join("\n", batchLines) + "\n", "examples");
    List<String> failed = new ArrayList<>();
    Matcher m = Pattern.compile("\\[batch (\\d+)/(\\d+)\\] line \\d+: exit (\\d+) in [0-9.]+ s: (.*)").matcher(r[1]);
    int ran = 0;
    while (m.find()) {
      ran++;
      if (!m.group(3).equals("0")) {
        failed.add("exit " + m.group(3) + ": " + m.group(4));
      }
    }
    assertEquals(batchLines.size(), ran, "every example ran:\n" + r[1]);
    assertTrue(failed.isEmpty() && r[0].equals("0"), "failing examples " + failed + "\n" + r[1]);
    for (String made : List.of("data/merged/_SUCCESS", "hdfs/out/merged/_SUCCESS", "data/analysis/subspaces/_SUCCESS",
        "sub.html", "ties-sub.html", "stats.html", "masks.html", "merged.html", "merge-report.html", "tmp/stats.html",
        "data/tv/math-1pct/_SUCCESS", "wsm/r1/latest", "hdfs/wsm/r1/latest", "data/round-3/scopes.json",
        "hdfs/analysis/ties-masks/_SUCCESS", "tmp/sparkmerge-demo/report.html", "data/family-1b/base")) {
      assertTrue(Files.exists(w.resolve(made)), made + " written by its example");
    }

    String[] sweep = runInSandbox(List.of("batch", "sweep.txt"), null, "sweep");
    assertEquals("0", sweep[0], sweep[1]);
    assertTrue(Files.exists(w.resolve("data/m-0.5/_SUCCESS")), sweep[1]);
  }
}
