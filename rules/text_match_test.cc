#include "rules/text_match.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace txflag::rules {
namespace {

using ::testing::ElementsAre;

TEST(Tokenize, SplitsOnNonAlnumAndLowercases) {
  EXPECT_THAT(Tokenize("EKSTRABLADET ANNONCER A/S"),
              ElementsAre("ekstrabladet", "annoncer", "a", "s"));
  EXPECT_THAT(Tokenize("RENT-week 12"), ElementsAre("rent", "week", "12"));
  EXPECT_THAT(Tokenize("  ..  "), ElementsAre());
  EXPECT_THAT(Tokenize(""), ElementsAre());
}

TEST(Tokenize, LowercasesDanishLettersAndKeepsOtherUtf8) {
  EXPECT_THAT(Tokenize("V\xc3\x86RELSE \xc3\x98STERBRO \xc3\x85RHUS"),
              ElementsAre("v\xc3\xa6relse", "\xc3\xb8sterbro", "\xc3\xa5rhus"));
  // Cyrillic "Аренда" kept byte for byte, as one token.
  EXPECT_THAT(Tokenize("\xd0\x90\xd1\x80\xd0\xb5\xd0\xbd\xd0\xb4\xd0\xb0!"),
              ElementsAre("\xd0\x90\xd1\x80\xd0\xb5\xd0\xbd\xd0\xb4\xd0\xb0"));
  // No-break space and an en dash separate words.
  EXPECT_THAT(Tokenize("leje\xc2\xa0marts\xe2\x80\x93"
                       "april"),
              ElementsAre("leje", "marts", "april"));
}

TEST(Tokenize, InvalidUtf8IsKeptNotACrash) {
  EXPECT_THAT(Tokenize("a\xc3"), ElementsAre("a\xc3"));
  EXPECT_THAT(Tokenize("\xff\xfe x"), ElementsAre("\xff\xfe", "x"));
}

TEST(NameMatcher, MatchesTheWatchlistExamples) {
  NameMatcher m(
      {"eroguide", "eb.dk", "Ekstra Bladet annoncer", "escortguide.dk"});
  EXPECT_EQ(m.size(), 4u);
  EXPECT_TRUE(m.Matches("EROGUIDE.DK"));
  EXPECT_TRUE(m.Matches("Eroguide ApS"));
  EXPECT_TRUE(m.Matches("EB.DK"));
  EXPECT_TRUE(m.Matches("Eb dk"));
  EXPECT_TRUE(m.Matches("EKSTRABLADET ANNONCER A/S"));
  EXPECT_TRUE(m.Matches("Ekstra Bladet Annoncer"));
  EXPECT_TRUE(m.Matches("Escortguide.dk"));
  EXPECT_TRUE(m.Matches("betaling til escortguide.dk ref 881"));
}

TEST(NameMatcher, MatchesOnlyWholeWords) {
  NameMatcher m({"eroguide", "eb.dk", "Ekstra Bladet annoncer"});
  EXPECT_FALSE(m.Matches("Webdk Shop"));
  EXPECT_FALSE(m.Matches("Eroguider Ltd"));
  EXPECT_FALSE(m.Matches("Neroguide"));
  EXPECT_FALSE(m.Matches("Ekstra Bladet"));  // only part of the term
  EXPECT_FALSE(m.Matches("Rebdk"));
  EXPECT_FALSE(m.Matches(""));
  EXPECT_FALSE(m.Matches("Netto"));
}

TEST(NameMatcher, IgnoresTermsWithoutLettersAndEmptyLists) {
  NameMatcher empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_FALSE(empty.Matches("anything"));
  NameMatcher punct({"--", " "});
  EXPECT_TRUE(punct.empty());
  EXPECT_FALSE(punct.Matches("-- --"));
}

TEST(NameMatcher, DanishLettersMatchAcrossCase) {
  NameMatcher m({"massagepiger", "\xc3\x98stjysk Massage"});
  EXPECT_TRUE(m.Matches("MASSAGEPIGER.DK"));
  EXPECT_TRUE(m.Matches("\xc3\xb8STJYSK-MASSAGE I/S"));
}

TEST(NameMatcher, LongNamesStillMatch) {
  NameMatcher m({"eroguide"});
  std::string name(2000, 'x');
  name += " eroguide";
  EXPECT_TRUE(m.Matches(name));
  std::string many;
  for (int i = 0; i < 300; ++i) many += "a ";
  EXPECT_FALSE(m.Matches(many));
  EXPECT_TRUE(m.Matches(many + "Eroguide"));
}

TEST(KeywordMatcher, MatchesWholeTokens) {
  KeywordMatcher m({"husleje", "leje", "rent", "room", "vaerelse",
                    "v\xc3\xa6relse", "logi", "bolig"});
  EXPECT_EQ(m.size(), 8u);
  EXPECT_TRUE(m.Matches("Husleje marts"));
  EXPECT_TRUE(m.Matches("RENT-week 12"));
  EXPECT_TRUE(m.Matches("V\xc3\x86RELSE uge 3"));
  EXPECT_TRUE(m.Matches("leje"));
  EXPECT_FALSE(m.Matches("parent gift"));
  EXPECT_FALSE(m.Matches("rental car"));
  EXPECT_FALSE(m.Matches("Billeje Hertz"));
  EXPECT_FALSE(m.Matches(""));
  EXPECT_FALSE(m.Matches(std::string(500, 'r')));
}

TEST(KeywordMatcher, NormalisesKeywordsAndSkipsMultiWordOnes) {
  KeywordMatcher m({"HUSLEJE", "two words", "--"});
  EXPECT_EQ(m.size(), 1u);
  EXPECT_TRUE(m.Matches("husleje"));
  EXPECT_FALSE(m.Matches("two words"));
}

}  // namespace
}  // namespace txflag::rules
