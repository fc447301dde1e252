package io.sparkmerge.plan;

import io.sparkmerge.InputDataException;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.method.MergeMethod;
import io.sparkmerge.vocab.EmbeddingRows;
import io.sparkmerge.vocab.VocabularySurgery;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;

/**
 * The planner's side of a vocabulary change: the merge's inputs handed to {@link VocabularySurgery},
 * then checked against it (a method with side inputs cannot read permuted rows; every embedding
 * matrix must have the rows its tokenizer names).
 */
final class VocabularyInputs {
  private VocabularyInputs() {}

  /** The vocabulary change of a tokenizer_source / tokenizer: config (null: none); inputs are the base first, then the models. */
  static VocabularySurgery plan(Configuration hadoopConf, MergeConfig cfg, MergeMethod method, InputModel base, List<InputModel> models) {
    List<String> inputs = new ArrayList<>();
    if (base != null) {
      inputs.add(base.path());
    }
    models.forEach(m -> inputs.add(m.path()));
    VocabularySurgery v = VocabularySurgery.plan(hadoopConf, cfg, inputs, base != null, Planner::samePath);
    if (v != null) {
      VocabularySurgery.checkMethod(method.name(), !method.sideInputs().isEmpty());
      List<InputModel> all = new ArrayList<>();
      if (base != null) {
        all.add(base);
      }
      all.addAll(models);
      for (int i = 0; i < all.size(); i++) {
        int needed = v.rows().maxRowRead(i);
        for (TensorInfo t : all.get(i).dir().tensors().values()) {
          if (EmbeddingRows.isEmbedding(t.name(), t.shape()) && t.shape()[0] <= needed) {
            throw new InputDataException(all.get(i).path() + ": tensor " + t.name() + " has " + t.shape()[0] + " rows but its"
                + " tokenizer has token ids up to " + needed + "; the tokenizer and the checkpoint do not belong together");
          }
        }
      }
    }
    return v;
  }
}
