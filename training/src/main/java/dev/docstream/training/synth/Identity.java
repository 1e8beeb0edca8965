package dev.docstream.training.synth;

import dev.docstream.schemas.DocumentField;
import java.time.LocalDate;
import java.util.EnumMap;
import java.util.Map;

/**
 * The person and document data printed on one synthetic document, in canonical form: names in
 * capitals, dates as values, nationality as ISO 3166 alpha-3, sex as M, F or X.
 */
public record Identity(
    String surname,
    String givenNames,
    LocalDate dateOfBirth,
    String documentNumber,
    LocalDate expiryDate,
    String nationality,
    String sex) {

  /** The ground truth DocStream must extract: dates as YYYY-MM-DD. */
  public Map<DocumentField, String> groundTruth() {
    Map<DocumentField, String> truth = new EnumMap<>(DocumentField.class);
    truth.put(DocumentField.SURNAME, surname);
    truth.put(DocumentField.GIVEN_NAMES, givenNames);
    truth.put(DocumentField.DATE_OF_BIRTH, dateOfBirth.toString());
    truth.put(DocumentField.DOCUMENT_NUMBER, documentNumber);
    truth.put(DocumentField.EXPIRY_DATE, expiryDate.toString());
    truth.put(DocumentField.NATIONALITY, nationality);
    truth.put(DocumentField.SEX, sex);
    return truth;
  }
}
