package io.sparkmerge.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.UsageMessageSpec;

/**
 * How every command's {@code --help} ends: the exit codes, then the examples printed exactly as
 * written. picocli wraps the footer at the help width, which broke long example command lines in the
 * middle of a token (a copied line then failed); the footer is printed verbatim instead.
 */
final class HelpFormat {
  private HelpFormat() {}

  /** Applies the format to {@code cl} and all its subcommands. */
  static void install(CommandLine cl) {
    cl.getHelpSectionMap().put(UsageMessageSpec.SECTION_KEY_FOOTER, HelpFormat::verbatimFooter);
    UsageMessageSpec usage = cl.getCommandSpec().usageMessage();
    if (usage.exitCodeList().isEmpty()) { // a command that documents its own codes (batch) keeps them
      usage.exitCodeListHeading("%nExit codes:%n").exitCodeList(exitCodes(cl.getCommandSpec()));
    }
    cl.getSubcommands().values().forEach(HelpFormat::install);
  }

  private static String verbatimFooter(CommandLine.Help help) {
    String[] lines = help.commandSpec().usageMessage().footer();
    return lines.length == 0 ? "" : String.join(System.lineSeparator(), lines) + System.lineSeparator();
  }

  /** Main's codes (DESIGN.md §4); 4 for the commands that write an output (they have --overwrite) and for the top level. */
  static Map<String, String> exitCodes(CommandSpec spec) {
    Map<String, String> codes = new LinkedHashMap<>();
    codes.put("0", "ok");
    codes.put("1", "anything else (--verbose prints the stack trace)");
    codes.put("2", "bad usage or config (unknown option, invalid YAML key or value)");
    codes.put("3", "bad input data (a model, table or file that cannot be read as expected)");
    if (spec.findOption("--overwrite") != null || !spec.subcommands().isEmpty()) {
      codes.put("4", "the output exists (pass --overwrite) or another run is writing it");
    }
    return codes;
  }
}
