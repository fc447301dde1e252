package io.sparkmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.Version;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every command's --help lists its exit codes and ends with examples of itself, each example on one
 * line however long (copy-paste must give the whole command); no command lists all commands;
 * --version prints the version.
 */
class CliHelpTest {
  static List<String> commands() {
    List<String> names = new ArrayList<>(new CommandLine(new Main()).getSubcommands().keySet());
    names.remove("help");
    return names;
  }

  /** The lines after "Examples:" of a help text. */
  static List<String> examples(String help) {
    int i = help.indexOf("\nExamples:\n");
    assertTrue(i >= 0, "an Examples section:\n" + help);
    return help.substring(i + "\nExamples:\n".length()).lines().filter(l -> !l.isBlank()).toList();
  }

  @Test
  void everyCommandListsExitCodesAndWholeExamples() {
    List<String> all = new ArrayList<>(commands());
    all.add(0, null);
    for (String name : all) {
      MainTest.Run r = name == null ? MainTest.run("--help") : MainTest.run(name, "--help");
      String what = (name == null ? "sparkmerge" : name) + " --help:\n" + r.out();
      assertEquals(0, r.code(), what);
      int codes = r.out().indexOf("\nExit codes:\n");
      assertTrue(codes >= 0 && codes < r.out().indexOf("\nExamples:\n"), "exit codes before the examples: " + what);
      String codeList = r.out().substring(codes, r.out().indexOf("\nExamples:\n"));
      assertTrue(codeList.contains("\n  0 ") && codeList.contains("\n  2 "), what);
      // recover writes no output of its own but, like a run, exits 4 while a live run holds OUT's lock
      boolean writes = name == null || "recover".equals(name) || new CommandLine(new Main()).getSubcommands().get(name)
          .getCommandSpec().findOption("--overwrite") != null;
      assertEquals(writes, codeList.contains("\n  4 "), "exit code 4 exactly where an output can exist: " + what);
      List<String> ex = examples(r.out());
      assertTrue(!ex.isEmpty(), what);
      for (String line : ex) {
        // a wrapped example would leave a continuation line that does not start a command
        assertTrue(line.startsWith("  ") && line.contains("sparkmerge "), "an example on one line: '" + line + "' in " + what);
      }
      if (name != null) {
        assertTrue(ex.stream().anyMatch(l -> l.contains("sparkmerge " + name + " ")), "examples of itself: " + what);
      }
    }
    assertTrue(MainTest.run("task-vectors", "--help").out().lines().anyMatch(l -> l.length() > 80 && l.startsWith("  sparkmerge ")),
        "a long example stays on its line");
  }

  @Test
  void noCommandListsEveryCommand() {
    MainTest.Run r = MainTest.run();
    assertEquals(2, r.code());
    assertTrue(r.err().contains("missing command"), r.err());
    for (String name : commands()) {
      assertTrue(r.err().contains("\n  " + name + " "), name + " listed:\n" + r.err());
    }
  }

  @Test
  void version() {
    MainTest.Run r = MainTest.run("--version");
    assertEquals(0, r.code());
    assertTrue(r.out().contains(Version.VERSION), r.out());
  }
}
