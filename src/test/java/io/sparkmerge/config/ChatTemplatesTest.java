package io.sparkmerge.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmerge.ConfigException;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * chat_template: NAME renders conversations as the public chat format of that name, in the variant mergekit's
 * template of that name renders (whitespace included). The templates are rendered as transformers renders them
 * (src/test/resources/chat_templates/render.py: jinja2's sandbox, trim_blocks, lstrip_blocks) and compared with
 * the strings below, written from the formats; bench/mergekit_parity compares the same renders with mergekit's files.
 */
class ChatTemplatesTest {
  static final String PYTHON = "/usr/bin/python3";
  static final Path RESOURCES = Path.of("src/test/resources/chat_templates").toAbsolutePath();
  static final String LLAMA_USER = "<|start_header_id|>user<|end_header_id|>\n\n";
  static final String LLAMA_ASSISTANT = "<|start_header_id|>assistant<|end_header_id|>\n\n";
  static final String EXAONE_EMPTY_SYSTEM = "        [|system|][|endofturn|]\n\n";
  static final String ERROR = "ERROR: TemplateError";

  /**
   * Per template, for conversations 0-3 of conversations.json: [render without, render with the generation prompt].
   * 0: user "Hi"; 1: system "Be brief.", user "Hi", assistant "Hello!", user " Two? "; 2: user "A", assistant "B ";
   * 3: system " first ", user_context "ctx\n", system "second", user "Q:\nwhy?".
   */
  static final Map<String, List<List<String>>> EXPECTED = Map.of(
      "chatml", List.of(
          p("<|im_start|>user\nHi<|im_end|>\n", "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"),
          p("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n"
              + "<|im_start|>user\n Two? <|im_end|>\n", null),
          p("<|im_start|>user\nA<|im_end|>\n<|im_start|>assistant\nB <|im_end|>\n", null),
          p("<|im_start|>system\n first <|im_end|>\n<|im_start|>user_context\nctx\n<|im_end|>\n<|im_start|>system\nsecond<|im_end|>\n"
              + "<|im_start|>user\nQ:\nwhy?<|im_end|>\n", null)),
      "llama3", List.of(
          p("<s>" + LLAMA_USER + "Hi<|eot_id|>\n", "<s>" + LLAMA_USER + "Hi<|eot_id|>\n" + LLAMA_ASSISTANT),
          p("<s><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>\n" + LLAMA_USER + "Hi<|eot_id|>\n"
              + LLAMA_ASSISTANT + "Hello!<|eot_id|>\n" + LLAMA_USER + "Two?<|eot_id|>\n", null),
          p("<s>" + LLAMA_USER + "A<|eot_id|>\n" + LLAMA_ASSISTANT + "B<|eot_id|>\n", null),
          p("<s><|start_header_id|>system<|end_header_id|>\n\nfirst<|eot_id|>\n<|start_header_id|>user_context<|end_header_id|>\n\n"
              + "ctx<|eot_id|>\n<|start_header_id|>system<|end_header_id|>\n\nsecond<|eot_id|>\n" + LLAMA_USER + "Q:\nwhy?<|eot_id|>\n", null)),
      "mistral", List.of(
          p("<s> [INST] Hi [/INST]", "<s> [INST] Hi [/INST]"),
          p("<s> [INST] Be brief.\n\nHi [/INST] Hello!</s> [INST]  Two?  [/INST]",
              "<s> [INST] Be brief.\n\nHi [/INST] Hello!</s> [INST]  Two?  [/INST]"),
          p("<s> [INST] A [/INST] B </s>", "<s> [INST] A [/INST] B </s>"),
          p(ERROR, ERROR)),
      "alpaca", List.of(
          p("\n\n### Instruction:\nHi", "\n\n### Instruction:\nHi### Response:\n"),
          p("Be brief.\n\n### Instruction:\nHi\n\n### Response:\nHello!\n\n### Instruction:\nTwo?",
              "Be brief.\n\n### Instruction:\nHi\n\n### Response:\nHello!\n\n### Instruction:\nTwo?### Response:\n"),
          p("\n\n### Instruction:\nA\n\n### Response:\nB", "\n\n### Instruction:\nA\n\n### Response:\nB"),
          p("second\n\n### Input:\nctx\n\n### Instruction:\nQ:\nwhy?", "second\n\n### Input:\nctx\n\n### Instruction:\nQ:\nwhy?### Response:\n")),
      "exaone", List.of(
          p(EXAONE_EMPTY_SYSTEM + "    [|user|]Hi\n        \n\n", EXAONE_EMPTY_SYSTEM + "    [|user|]Hi\n        \n\n    [|assistant|]\n"),
          p("    [|system|]Be brief.\n        [|endofturn|]\n\n    [|user|]Hi\n        \n\n    [|assistant|]Hello!\n        [|endofturn|]\n\n"
              + "    [|user|] Two? \n        \n\n", null),
          p(EXAONE_EMPTY_SYSTEM + "    [|user|]A\n        \n\n    [|assistant|]B \n        [|endofturn|]\n\n", null),
          p("    [|system|] first \n        [|endofturn|]\n\n    [|user_context|]ctx\n\n        [|endofturn|]\n\n"
              + "    [|system|]second\n        [|endofturn|]\n\n    [|user|]Q:\nwhy?\n        \n\n", null)));

  private static List<String> p(String withoutPrompt, String withPrompt) {
    return java.util.Arrays.asList(withoutPrompt, withPrompt);
  }

  /** The generation prompt each template appends (null: it appends none), for the expectations left null above. */
  static final Map<String, String> GENERATION_PROMPT = Map.of("chatml", "<|im_start|>assistant\n", "llama3", LLAMA_ASSISTANT,
      "exaone", "    [|assistant|]\n");

  @TempDir Path work;

  @Test
  void everyNamedTemplateRendersItsFormat() throws Exception {
    assumeTrue(new File(PYTHON).canExecute(), "skipped: " + PYTHON + " is not available");
    JsonNode renders = render();
    assertEquals(new TreeSet<>(EXPECTED.keySet()), new TreeSet<>(MergekitKeys.NAMED_TEMPLATES));
    for (Map.Entry<String, List<List<String>>> t : EXPECTED.entrySet()) {
      for (int c = 0; c < t.getValue().size(); c++) {
        List<String> want = t.getValue().get(c);
        String withPrompt = want.get(1) != null ? want.get(1) : want.get(0) + GENERATION_PROMPT.get(t.getKey());
        assertEquals(want.get(0), renders.get(t.getKey()).get(c).get(0).asText(), t.getKey() + ", conversation " + c);
        assertEquals(withPrompt, renders.get(t.getKey()).get(c).get(1).asText(), t.getKey() + ", conversation " + c + ", prompt");
      }
    }
    // conversations 4-8: user twice; only a system message; a system message after a user turn; the assistant first; none
    JsonNode mistral = renders.get("mistral");
    for (int c : new int[] {4, 6, 7}) {
      assertEquals(ERROR, mistral.get(c).get(0).asText(), "mistral refuses roles that do not alternate, conversation " + c);
    }
    assertEquals("<s>", mistral.get(5).get(0).asText());
    assertEquals("late\n\n### Instruction:\nu\n\n", renders.get("alpaca").get(6).get(0).asText(), "the last system message leads");
    assertEquals("", renders.get("llama3").get(8).get(0).asText(), "no BOS without messages");
    assertEquals(LLAMA_ASSISTANT, renders.get("llama3").get(8).get(1).asText());
    assertEquals("    [|assistant|]\n", renders.get("exaone").get(8).get(1).asText());
  }

  /** Writes our templates (as the jar holds them) to a directory and renders conversations.json with them. */
  private JsonNode render() throws Exception {
    for (String name : MergekitKeys.NAMED_TEMPLATES) {
      Files.writeString(work.resolve(name + ".jinja"), MergekitKeys.namedTemplate(name));
    }
    List<String> cmd = new java.util.ArrayList<>(List.of(PYTHON, RESOURCES.resolve("render.py").toString(),
        RESOURCES.resolve("conversations.json").toString(), work.toString()));
    cmd.addAll(MergekitKeys.NAMED_TEMPLATES);
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    byte[] out = p.getInputStream().readAllBytes();
    int rc = p.waitFor();
    assumeTrue(rc != 3, "skipped: jinja2 is not importable from " + PYTHON);
    assertEquals(0, rc, new String(out));
    return new ObjectMapper().readTree(out);
  }

  @Test
  void aConfigNamingOneCarriesItsText() {
    MergeConfig c = ConfigLoader.parse("merge_method: linear\nmodels: [/m1, /m2]\nchat_template: chatml\n", "c.yml");
    assertEquals(MergekitKeys.namedTemplate("chatml"), c.chatTemplate());
    assertTrue(ConfigLoader.parse("merge_method: linear\nmodels: [/m]\nchat_template: llama3\n", "c.yml").chatTemplate()
        .contains("<|start_header_id|>"));
    ConfigException e = assertThrows(ConfigException.class,
        () -> ConfigLoader.parse("merge_method: linear\nmodels: [/m]\nchat_template: chatmll\n", "c.yml"));
    assertTrue(e.getMessage().contains("'chatmll'") && e.getMessage().contains("chatml"), e.getMessage());
  }
}
