package dev.docstream.training.synth;

import java.time.LocalDate;
import java.util.Random;

/** Draws random identities that fit on a card of a given document type. */
public final class IdentitySampler {
  private static final String NUMBER_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ";

  private IdentitySampler() {}

  /** A random identity for a document of this type. */
  public static Identity sample(DocumentTypeSpec spec, Random rnd) {
    String surname = Vocabulary.SURNAMES.get(rnd.nextInt(Vocabulary.SURNAMES.size()));
    if (rnd.nextInt(10) == 0) {
      String second = Vocabulary.SURNAMES.get(rnd.nextInt(Vocabulary.SURNAMES.size()));
      if (surname.length() + second.length() < 12) {
        surname = surname + "-" + second;
      }
    }
    String given = Vocabulary.GIVEN_NAMES.get(rnd.nextInt(Vocabulary.GIVEN_NAMES.size()));
    if (rnd.nextInt(3) == 0) {
      String second = Vocabulary.GIVEN_NAMES.get(rnd.nextInt(Vocabulary.GIVEN_NAMES.size()));
      if (given.length() + second.length() < 12 && !second.equals(given)) {
        given = given + " " + second;
      }
    }
    LocalDate dob = LocalDate.of(1940, 1, 1).plusDays(rnd.nextInt(365 * 67));
    LocalDate expiry = LocalDate.of(2025, 1, 1).plusDays(rnd.nextInt(365 * 12));
    StringBuilder number = new StringBuilder();
    for (char c : spec.documentNumberPattern().toCharArray()) {
      number.append(
          c == 'L'
              ? NUMBER_LETTERS.charAt(rnd.nextInt(NUMBER_LETTERS.length()))
              : (char) ('0' + rnd.nextInt(10)));
    }
    boolean foreigner =
        spec.kind().equals("RESIDENCE-PERMIT") || spec.kind().equals("DRIVING-LICENCE");
    String nationality =
        foreigner && rnd.nextInt(3) != 0
            ? Vocabulary.COUNTRIES.get(rnd.nextInt(Vocabulary.COUNTRIES.size()))
            : spec.country();
    int s = rnd.nextInt(100);
    String sex = s < 49 ? "M" : s < 98 ? "F" : "X";
    return new Identity(surname, given, dob, number.toString(), expiry, nationality, sex);
  }
}
