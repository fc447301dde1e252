package io.sparkmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.Version;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every command's --help ends with examples of itself; --version prints the version. */
class CliHelpTest {
  @Test
  void everyCommandHasExamples() {
    CommandLine cl = new CommandLine(new Main());
    for (String name : cl.getSubcommands().keySet()) {
      if (name.equals("help")) {
        continue;
      }
      MainTest.Run r = MainTest.run(name, "--help");
      assertEquals(0, r.code(), name);
      assertTrue(r.out().contains("Examples:") && r.out().contains("  sparkmerge " + name + " "), name + " --help:\n" + r.out());
    }
    assertTrue(MainTest.run("--help").out().contains("Examples:"));
  }

  @Test
  void version() {
    MainTest.Run r = MainTest.run("--version");
    assertEquals(0, r.code());
    assertTrue(r.out().contains(Version.VERSION), r.out());
  }
}
