package dev.docstream.training.synth;

import java.util.List;

/** Word lists the generator draws from: names, countries, document kinds, label languages. */
final class Vocabulary {
  private Vocabulary() {}

  static final List<String> SURNAMES =
      List.of(
          "SMITH",
          "JONES",
          "MULLER",
          "SCHMIDT",
          "GARCIA",
          "MARTIN",
          "ROSSI",
          "BIANCHI",
          "DUBOIS",
          "BERNARD",
          "NOWAK",
          "KOWALSKI",
          "JANSEN",
          "DEVRIES",
          "SILVA",
          "SANTOS",
          "PEREIRA",
          "LOPEZ",
          "GONZALEZ",
          "FERRARI",
          "ROMANO",
          "LAURENT",
          "LEROY",
          "WAGNER",
          "BECKER",
          "HOFFMANN",
          "FISCHER",
          "WEBER",
          "KLEIN",
          "WOLF",
          "NIELSEN",
          "HANSEN",
          "JOHANSEN",
          "LARSEN",
          "ANDERSEN",
          "BERG",
          "LINDQVIST",
          "HOLM",
          "NYBERG",
          "OKAFOR",
          "ADEYEMI",
          "MENSAH",
          "KIMANI",
          "OTIENO",
          "KHAN",
          "PATEL",
          "SHARMA",
          "SINGH",
          "NGUYEN",
          "TRAN",
          "PHAM",
          "KIM",
          "PARK",
          "CHOI",
          "TANAKA",
          "SATO",
          "SUZUKI",
          "WANG",
          "CHEN",
          "ZHANG",
          "IVANOV",
          "PETROV",
          "POPESCU",
          "HORVAT",
          "KOVAC",
          "NAGY",
          "SZABO",
          "NOVAK",
          "DVORAK",
          "YILMAZ",
          "KAYA",
          "DEMIR",
          "COHEN",
          "LEVI",
          "MURPHY",
          "KELLY",
          "WALSH",
          "BYRNE",
          "OBRIEN",
          "TAYLOR",
          "BROWN",
          "WILSON",
          "EVANS",
          "HUGHES",
          "MORALES",
          "ORTIZ",
          "RAMOS",
          "CASTRO",
          "VARGAS",
          "MENDEZ",
          "KEITA",
          "DIALLO",
          "TRAORE",
          "HADDAD",
          "NASSER",
          "ABBAS",
          "FARAH",
          "AHMED",
          "QUINN",
          "ZIMMER",
          "VOGEL",
          "YOUNG",
          "EKSTROM",
          "AALTO",
          "VIRTANEN",
          "KORHONEN",
          "LEHTO",
          "MAKI",
          "JOVIC",
          "PAVLOV",
          "MOREAU",
          "FOURNIER",
          "GIRARD",
          "BONNET",
          "DUPONT",
          "LAMBERT",
          "FONTAINE",
          "ROUX",
          "VINCENT",
          "MULDER",
          "BOS");

  static final List<String> GIVEN_NAMES =
      List.of(
          "ANNA", "MARIA", "JOHN", "JAMES", "PETER", "PAUL", "LUCAS", "EMMA", "SOFIA", "LEON",
          "NOAH", "MIA", "LEA", "HUGO", "LOUIS", "JULIA", "LAURA", "MARCO", "LUCA", "GIULIA",
          "CARLOS", "ANA", "JOSE", "JUAN", "ELENA", "IVAN", "OLGA", "PIOTR", "KASIA", "JAN", "EVA",
          "SARA", "ALI", "OMAR", "FATIMA", "AISHA", "YUSUF", "AMINA", "KOFI", "AMARA", "WEI", "MEI",
          "HIROSHI", "YUKI", "MINJI", "JIWOO", "ARJUN", "PRIYA", "RAVI", "NINA", "OSCAR", "FELIX",
          "MAX", "ERIK", "LARS", "INGRID", "ASTRID", "SVEN", "NILS", "KARIN", "TOMAS", "PAVEL",
          "MILAN", "DANIEL", "DAVID", "SAMUEL", "RUTH", "HANNA", "CLARA", "ROSA", "ALMA", "IRIS",
          "ZOE", "ADAM", "EMIL", "OTTO", "KARL", "HANS", "GRETA", "JONAS", "ELIAS", "NORA", "VERA",
          "TARA", "LIAM", "SEAN", "NIAMH", "AOIFE", "RORY", "OWEN", "RHYS", "CERYS", "DYLAN",
          "MATEO", "DIEGO", "LUIS", "INES", "JOANA", "RUI", "TIAGO", "MARTA", "NUNO", "BRUNO",
          "FILIPE", "ANTON");

  /** ISO 3166 alpha-3 codes of issuing countries. */
  static final List<String> COUNTRIES =
      List.of(
          "GBR", "FRA", "DEU", "ESP", "ITA", "NLD", "BEL", "PRT", "POL", "SWE", "NOR", "DNK", "FIN",
          "IRL", "AUT", "CHE", "CZE", "SVK", "HUN", "ROU", "BGR", "GRC", "HRV", "SVN", "EST", "LVA",
          "LTU", "LUX", "MLT", "CYP", "ISL", "USA", "CAN", "MEX", "BRA", "ARG", "CHL", "COL", "PER",
          "AUS", "NZL", "JPN", "KOR", "CHN", "IND", "PAK", "BGD", "VNM", "THA", "PHL", "IDN", "MYS",
          "SGP", "TUR", "ISR", "EGY", "MAR", "TUN", "NGA", "GHA", "KEN", "ZAF", "ETH", "UKR",
          "SRB");

  static final List<String> DOCUMENT_KINDS =
      List.of("PASSPORT", "ID-CARD", "DRIVING-LICENCE", "RESIDENCE-PERMIT");

  /** Field labels per language, in DocumentField order. */
  static final List<List<String>> LABELS =
      List.of(
          List.of(
              "Surname",
              "Given names",
              "Date of birth",
              "Document no",
              "Expiry",
              "Nationality",
              "Sex"),
          List.of("Nom", "Prénoms", "Né(e) le", "N° document", "Expire le", "Nationalité", "Sexe"),
          List.of(
              "Name", "Vornamen", "Geb.-Datum", "Dok.-Nr.", "Gültig bis", "Staatsang.", "Geschl."),
          List.of("Apellidos", "Nombre", "F. nacim.", "Nº doc.", "Válido", "Nacional.", "Sexo"),
          List.of("Cognome", "Nome", "Nato il", "N. doc.", "Scadenza", "Cittad.", "Sesso"),
          List.of("Naam", "Voornamen", "Geb. datum", "Doc. nr.", "Geldig tot", "Nation.", "Gesl."),
          List.of("Apelido", "Nome", "Data nasc.", "N.º doc.", "Validade", "Nacion.", "Sexo"),
          List.of("Nazwisko", "Imiona", "Data ur.", "Nr dok.", "Ważny do", "Obywat.", "Płeć"),
          List.of("Efternamn", "Förnamn", "Född", "Dok.nr", "Giltig", "Nation.", "Kön"),
          List.of("1.", "2.", "3.", "5.", "4b.", "Nat.", "Sex"),
          List.of(
              "Sukunimi", "Etunimet", "Syntynyt", "Asiak. nro", "Voimassa", "Kansal.", "Sukup."),
          List.of(
              "Priezvisko", "Meno", "Dát. nar.", "Č. dokl.", "Platí do", "Štát. obč.", "Pohl."));

  /** Title words per document kind, to vary the card header. */
  static final List<String> TITLES =
      List.of("PASSPORT", "IDENTITY CARD", "DRIVING LICENCE", "RESIDENCE PERMIT");
}
