package dev.docstream.inference.model;

/**
 * What the model read for one field.
 *
 * @param value the normalised value (dates as YYYY-MM-DD), or the raw text where it did not parse
 * @param raw the characters as read off the document
 * @param confidence the probability of the best frame path, in [0, 1]
 */
public record FieldReading(String value, String raw, double confidence) {}
