package dev.docstream.inference.model.decoding;

/**
 * What the model read for one field.
 *
 * @param value the normalised value (dates as YYYY-MM-DD), or the raw text where it did not parse
 * @param raw the characters as read off the document
 * @param confidence the probability that the frames read as {@code raw} (summed over every frame
 *     path that does), in [0, 1]; 0 where the value did not parse
 */
public record FieldReading(String value, String raw, double confidence) {}
