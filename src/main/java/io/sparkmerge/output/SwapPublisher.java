package io.sparkmerge.output;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Publishes by renames, for file systems whose rename is atomic (local disks, HDFS). The new output is
 * built whole beside the old one; a journal naming every move is written before the first rename; then
 * each old entry is renamed aside, the new one renamed in, the old ones deleted, and the journal
 * deleted. The old bytes are never deleted before the new output is in place, and at every instant
 * either the target holds the complete old or the complete new entry, or (between the two renames of an
 * entry) both are whole at the places the journal names. {@link #recover} rolls such a state forward:
 * every step is idempotent, so a recovery that is itself killed is finished by the next.
 */
final class SwapPublisher implements Publisher {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String JOURNAL = "journal.json";

  private final FileSystem fs;
  private final Path journal;
  private final Path journalTmp;

  SwapPublisher(FileSystem fs, Path workDir) {
    this.fs = fs;
    this.journal = fs.makeQualified(new Path(workDir, JOURNAL));
    this.journalTmp = fs.makeQualified(new Path(workDir, JOURNAL + ".tmp"));
  }

  @Override
  public void publish(List<Move> moves, CommitStep.Hook hook) throws IOException {
    hook.at(CommitStep.STAGED);
    writeJournal(moves);
    hook.at(CommitStep.JOURNAL_WRITTEN);
    for (Move m : moves) {
      if (fs.exists(m.target())) {
        rename(m.target(), m.aside());
        hook.at(CommitStep.OLD_MOVED_ASIDE);
      }
      rename(m.fresh(), m.target());
      hook.at(CommitStep.NEW_MOVED_IN);
    }
    for (Move m : moves) {
      fs.delete(m.aside(), true);
    }
    hook.at(CommitStep.OLD_DELETED);
    fs.delete(journal, false);
    hook.at(CommitStep.JOURNAL_DELETED);
  }

  @Override
  public String recover() throws IOException {
    if (fs.exists(journalTmp)) {
      fs.delete(journalTmp, false); // a publish killed before its journal was complete had not started moving
    }
    if (!fs.exists(journal)) {
      return null;
    }
    List<Move> moves = readJournal();
    int forward = 0;
    int back = 0;
    for (Move m : moves) {
      if (fs.exists(m.fresh())) {
        if (fs.exists(m.target())) {
          if (fs.exists(m.aside())) {
            throw new IOException("cannot finish the interrupted publish of " + m.target() + ": it exists, and so do the old "
                + "output at " + m.aside() + " and the new one at " + m.fresh() + "; keep one of them by hand and delete " + journal);
          }
          rename(m.target(), m.aside());
        }
        rename(m.fresh(), m.target());
        forward++;
      } else if (!fs.exists(m.target()) && fs.exists(m.aside())) {
        rename(m.aside(), m.target()); // the new entry is gone: the old one goes back
        back++;
      }
    }
    for (Move m : moves) {
      fs.delete(m.aside(), true);
    }
    fs.delete(journal, false);
    return "finished an interrupted publish of " + moves.get(0).target() + (moves.size() > 1 ? " (and " + (moves.size() - 1)
        + " more)" : "") + (back > 0 ? ": " + back + " old entr" + (back == 1 ? "y" : "ies") + " restored" : "")
        + (forward > 0 ? ": " + forward + " new entr" + (forward == 1 ? "y" : "ies") + " moved in" : ": it was complete");
  }

  /**
   * A rename that never replaces or nests into an existing target (HDFS moves a directory into an existing
   * one). The check and the rename are not one step; the lock keeps other runs away from both paths.
   */
  private void rename(Path from, Path to) throws IOException {
    if (fs.exists(to)) {
      throw new IOException("cannot move " + from + " to " + to + ": the target exists");
    }
    if (!fs.rename(from, to)) {
      throw new IOException("cannot move " + from + " to " + to);
    }
  }

  private void writeJournal(List<Move> moves) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    ArrayNode a = root.putArray("moves");
    for (Move m : moves) {
      a.addObject().put("fresh", fs.makeQualified(m.fresh()).toString()).put("target", fs.makeQualified(m.target()).toString())
          .put("aside", fs.makeQualified(m.aside()).toString());
    }
    try (OutputStream os = fs.create(journalTmp, true)) {
      os.write(JSON.writeValueAsBytes(root));
    }
    rename(journalTmp, journal);
  }

  private List<Move> readJournal() throws IOException {
    JsonNode root;
    try (InputStream in = fs.open(journal)) {
      root = JSON.readTree(in);
    }
    List<Move> moves = new ArrayList<>();
    for (JsonNode m : root.path("moves")) {
      moves.add(new Move(new Path(m.path("fresh").asText()), new Path(m.path("target").asText()), new Path(m.path("aside").asText())));
    }
    if (moves.isEmpty()) {
      throw new IOException(journal + " names no move; delete it by hand");
    }
    return moves;
  }
}
