package dev.docstream.training.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.inference.model.ModelConfig;
import dev.docstream.inference.model.decoding.CharacterSet;
import dev.docstream.inference.model.decoding.OutputDecoder;
import dev.docstream.schemas.DocumentField;
import dev.docstream.training.BaseTraining;
import org.junit.jupiter.api.Test;

class BatchDataTest {

  @Test
  void shouldLabelFramesSoThatDecodingThemGivesThePrintedText() throws Exception {
    ModelConfig config = ModelConfig.standard();
    int fields = DocumentField.values().length;
    int frames = config.frames();
    int checked = 0;
    int wrong = 0;
    try (DocumentStream stream = new DocumentStream(BaseTraining.baseTypes(300), 32, config, 5)) {
      for (int batch = 0; batch < 8; batch++) {
        BatchData data = stream.next();
        // The labels as confident logits, read by the model's own decoder.
        int classes = CharacterSet.CLASSES;
        float[] logits = new float[data.size() * fields * frames * classes];
        for (int i = 0; i < data.classes().length; i++) {
          logits[i * classes + (int) data.classes()[i]] = 10f;
        }
        var read = OutputDecoder.decode(logits, data.size(), frames);
        for (int b = 0; b < data.size(); b++) {
          for (DocumentField f : DocumentField.values()) {
            String printed = data.documents().get(b).printed().get(f).text();
            checked++;
            wrong += read.get(b).get(f).raw().equals(printed) ? 0 : 1;
          }
        }
      }
    }
    // A label the decoder cannot reproduce is a field the model can never get right.
    assertTrue(
        wrong <= checked / 200,
        wrong + " of " + checked + " fields do not decode to their printed text");
    assertEquals(8 * 32 * fields, checked);
  }
}
