package dev.docstream.training.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.inference.model.CharacterSet;
import dev.docstream.inference.model.ModelConfig;
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
        for (int b = 0; b < data.size(); b++) {
          for (DocumentField f : DocumentField.values()) {
            StringBuilder decoded = new StringBuilder();
            int previous = CharacterSet.BLANK;
            for (int t = 0; t < frames; t++) {
              int cls = (int) data.classes()[(b * fields + f.ordinal()) * frames + t];
              if (cls != CharacterSet.BLANK && cls != previous) {
                decoded.append(CharacterSet.charOf(cls));
              }
              previous = cls;
            }
            String printed = data.documents().get(b).printed().get(f).text();
            checked++;
            wrong += decoded.toString().equals(printed) ? 0 : 1;
          }
        }
      }
    }
    // A label the decoder cannot reproduce is a field the model can never get right.
    assertTrue(wrong <= checked / 200, wrong + " of " + checked + " fields do not decode to their printed text");
    assertEquals(8 * 32 * fields, checked);
  }
}
