#include "session/affinity_cookie.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <chrono>
#include <regex>
#include <stdexcept>
#include <string>

#include "session/cookie.hpp"

namespace corral::session {
namespace {

using namespace std::chrono_literals;

constexpr long long now = 1'700'000'000;  // 2023-11-14T22:13:20Z
constexpr std::string_view key = "0123456789abcdef0123456789abcdef";
constexpr std::string_view other_key = "fedcba9876543210fedcba9876543210";

// HMAC-SHA256 with OpenSSL's one-shot HMAC(), apart from the reused context under test.
std::string reference_mac(std::string_view text) {
  const std::string message = "corral affinity cookie v1\n" + std::string(text);
  unsigned char mac[32];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &size);
  unsigned char encoded[48];
  const int n = EVP_EncodeBlock(encoded, mac, 32);  // standard base64, padded
  std::string s(reinterpret_cast<char*>(encoded), static_cast<std::size_t>(n));
  for (char& c : s) c = c == '+' ? '-' : (c == '/' ? '_' : c);
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

TEST(AffinityCookie, ValueIsSlotExpiryAndBase64urlMac) {
  AffinityCookie cookie(key);
  const std::string value(cookie.value(3, now + 600).view());
  EXPECT_TRUE(std::regex_match(value, std::regex(R"(3\.1700000600\.[A-Za-z0-9_-]{43})"))) << value;
  EXPECT_EQ(value, "3.1700000600." + reference_mac("3.1700000600"));
}

TEST(AffinityCookie, SigningAgainGivesTheSameValue) {
  AffinityCookie cookie(key);
  const std::string first(cookie.value(1, now).view());
  cookie.value(2, now + 5);
  EXPECT_EQ(cookie.value(1, now).view(), first);
}

TEST(AffinityCookie, VerifiesItsOwnCookie) {
  AffinityCookie cookie(key);
  const AffinityCookieCheck check = cookie.verify(cookie.value(4, now + 60).view(), now);
  EXPECT_EQ(check.status, AffinityCookieStatus::valid);
  EXPECT_EQ(check.slot, 4u);
  EXPECT_EQ(check.expiry_unix, now + 60);
}

TEST(AffinityCookie, AnotherInstanceWithTheSameKeyAgrees) {
  AffinityCookie issuer(key);
  AffinityCookie replica(key);
  EXPECT_EQ(replica.verify(issuer.value(0, now + 60).view(), now).slot, 0u);
}

TEST(AffinityCookie, ACopyHasItsOwnContextWithTheSameKey) {
  AffinityCookie original(key);
  AffinityCookie copy(original);
  const std::string value(original.value(7, now + 60).view());
  EXPECT_EQ(copy.verify(value, now).slot, 7u);
  EXPECT_EQ(copy.value(7, now + 60).view(), value);
}

TEST(AffinityCookie, ExpiredCookieCountsAsAbsent) {
  AffinityCookie cookie(key);
  const std::string value(cookie.value(1, now).view());
  EXPECT_EQ(cookie.verify(value, now - 1).status, AffinityCookieStatus::valid);
  const AffinityCookieCheck at_expiry = cookie.verify(value, now);
  EXPECT_EQ(at_expiry.status, AffinityCookieStatus::expired);
  EXPECT_EQ(at_expiry.slot, std::nullopt);
  EXPECT_EQ(at_expiry.expiry_unix, now);
  EXPECT_EQ(cookie.verify(value, now + 3600).status, AffinityCookieStatus::expired);
}

TEST(AffinityCookie, TamperedCookieCountsAsAbsent) {
  AffinityCookie cookie(key);
  const std::string value(cookie.value(3, now + 600).view());
  std::string other_slot = value;
  other_slot[0] = '4';
  std::string later = value;
  later[2] = '2';  // 2700000600: a longer life
  std::string flipped_mac = value;
  flipped_mac.back() = flipped_mac.back() == 'A' ? 'B' : 'A';
  for (const std::string& bad : {other_slot, later, flipped_mac}) {
    const AffinityCookieCheck check = cookie.verify(bad, now);
    EXPECT_EQ(check.status, AffinityCookieStatus::forged) << bad;
    EXPECT_EQ(check.slot, std::nullopt) << bad;
  }
}

TEST(AffinityCookie, ARememberedGenuineValueDoesNotVouchForItsNeighbours) {
  AffinityCookie cookie(key);
  const std::string value(cookie.value(3, now + 600).view());
  ASSERT_EQ(cookie.verify(value, now).status, AffinityCookieStatus::valid);  // now remembered
  std::string other_slot = value;
  other_slot[0] = '4';  // same MAC text, so the same place in the memory of genuine values
  std::string later = value;
  later[2] = '2';
  std::string longer = value + "A";
  for (int round = 0; round < 2; ++round) {
    for (const std::string& bad : {other_slot, later}) {
      EXPECT_EQ(cookie.verify(bad, now).status, AffinityCookieStatus::forged) << bad;
    }
    EXPECT_EQ(cookie.verify(longer, now).status, AffinityCookieStatus::malformed);
    EXPECT_EQ(cookie.verify(value, now).slot, 3u);
  }
  EXPECT_EQ(cookie.verify(value, now + 600).status, AffinityCookieStatus::expired);
}

TEST(AffinityCookie, ManyUsersEachVerifyAgain) {
  AffinityCookie issuer(key);
  AffinityCookie cookie(key);
  std::vector<std::string> values;
  for (SlotId slot = 0; slot < 500; ++slot)
    values.emplace_back(issuer.value(slot, now + 600 + slot).view());
  for (int round = 0; round < 3; ++round) {
    for (SlotId slot = 0; slot < values.size(); ++slot) {
      const auto check = cookie.verify(values[slot], now);
      ASSERT_EQ(check.slot, slot);
      ASSERT_EQ(check.expiry_unix, now + 600 + static_cast<long long>(slot));
    }
  }
}

TEST(AffinityCookie, CookieSignedWithAnotherKeyIsForged) {
  AffinityCookie ours(key);
  AffinityCookie theirs(other_key);
  EXPECT_EQ(ours.verify(theirs.value(1, now + 60).view(), now).status,
            AffinityCookieStatus::forged);
}

TEST(AffinityCookie, MalformedValuesCountAsAbsent) {
  AffinityCookie cookie(key);
  const std::string mac = reference_mac("1.1700000600");
  for (const std::string& bad : {
           std::string{}, std::string("1"), std::string("1.1700000600"),
           "1.1700000600." + mac.substr(1),  // short MAC
           "1.1700000600." + mac + "A",      // long MAC
           "1.1700000600.." + mac,           // empty field
           ".1700000600." + mac,             // no slot
           "1.." + mac,                      // no expiry
           "+1.1700000600." + mac,           // sign
           "1.-1700000600." + mac,           // negative expiry
           " 1.1700000600." + mac,           // space
           "1.1.1700000600." + mac,          // extra field
           "4294967296.1700000600." + mac,   // slot past 32 bits
           "1.9999999999999999999." + mac,   // expiry past 18 digits
       }) {
    const AffinityCookieCheck check = cookie.verify(bad, now);
    EXPECT_EQ(check.status, AffinityCookieStatus::malformed) << bad;
    EXPECT_EQ(check.slot, std::nullopt) << bad;
  }
}

TEST(AffinityCookie, ShortKeyIsRefused) {
  EXPECT_THROW(AffinityCookie("too short"), std::invalid_argument);
  EXPECT_NO_THROW(AffinityCookie("exactly 16 bytes"));
}

TEST(AffinityCookie, SetCookieCarriesTheAttributes) {
  AffinityCookie cookie(key);
  const std::string plain(cookie.set_cookie(2, now, 3600s, false).view());
  EXPECT_EQ(plain, "corral_affinity=2.1700003600." + reference_mac("2.1700003600") +
                       "; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax");
  const std::string tls(cookie.set_cookie(2, now, 3600s, true).view());
  EXPECT_EQ(tls, plain + "; Secure");
}

TEST(AffinityCookie, SetCookieParsesBackToAValidCookie) {
  AffinityCookie cookie(key);
  const auto header = cookie.set_cookie(4294967295u, now, 86400s, true);
  EXPECT_LE(header.size, CookieText::capacity);
  const auto parsed = parse_set_cookie(header.view(), now);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->name, affinity_cookie_name);
  EXPECT_FALSE(parsed->deletes);
  EXPECT_EQ(cookie.verify(parsed->value, now + 86399).slot, 4294967295u);
  EXPECT_EQ(cookie.verify(parsed->value, now + 86400).status, AffinityCookieStatus::expired);
}

TEST(AffinityCookie, RefreshWhenLessThanHalfTheLifeRemains) {
  EXPECT_FALSE(AffinityCookie::needs_refresh(now + 3600, now, 3600s));
  EXPECT_FALSE(AffinityCookie::needs_refresh(now + 1800, now, 3600s));
  EXPECT_TRUE(AffinityCookie::needs_refresh(now + 1799, now, 3600s));
  EXPECT_TRUE(AffinityCookie::needs_refresh(now, now, 3600s));
}

// strip_cookie with a buffer large enough for any copy.
std::optional<std::string_view> strip(std::string_view header, std::array<char, 256>& buffer) {
  return strip_cookie(header, affinity_cookie_name, buffer);
}

TEST(StripCookie, HeaderWithoutOurCookieIsReturnedAsIs) {
  std::array<char, 256> buffer;
  const std::string_view header = "a=1; b=2";
  const auto got = strip(header, buffer);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->data(), header.data());
  EXPECT_EQ(got->size(), header.size());
}

TEST(StripCookie, OnlyOurCookieLeavesNothing) {
  std::array<char, 256> buffer;
  EXPECT_EQ(strip("corral_affinity=1.2.x", buffer), "");
  EXPECT_EQ(strip(" corral_affinity=1.2.x ; ", buffer), "");
  EXPECT_EQ(strip("corral_affinity=a; corral_affinity=b", buffer), "");
}

TEST(StripCookie, OursFirstOrLastIsCutWithoutCopying) {
  std::array<char, 256> buffer;
  const std::string_view first = "corral_affinity=1.2.x; a=1; b=2";
  const auto got_first = strip(first, buffer);
  EXPECT_EQ(got_first, "a=1; b=2");
  EXPECT_TRUE(got_first->data() >= first.data() && got_first->data() < first.data() + first.size());
  const std::string_view last = "a=1; b=2;corral_affinity=1.2.x";
  const auto got_last = strip(last, buffer);
  EXPECT_EQ(got_last, "a=1; b=2");
  EXPECT_EQ(got_last->data(), last.data());
}

TEST(StripCookie, OursInTheMiddleIsCopiedOut) {
  std::array<char, 256> buffer;
  EXPECT_EQ(strip("a=1; corral_affinity=1.2.x; b=2", buffer), "a=1; b=2");
  EXPECT_EQ(strip("a=1;corral_affinity=1.2.x;b=2", buffer), "a=1;b=2");
  EXPECT_EQ(strip("corral_affinity=1; a=1; corral_affinity=2; b=2; corral_affinity=3", buffer),
            "a=1; b=2");
}

TEST(StripCookie, OnlyTheWholeCaseSensitiveNameMatches) {
  std::array<char, 256> buffer;
  const std::string_view header =
      "corral_affinity2=1; xcorral_affinity=2; Corral_Affinity=3; a=corral_affinity=4; "
      "corral_affinity";
  EXPECT_EQ(strip(header, buffer), header);
}

TEST(StripCookie, SpacesAroundTheNameStillMatch) {
  std::array<char, 256> buffer;
  EXPECT_EQ(strip(" corral_affinity =x; a=1", buffer), "a=1");
  EXPECT_EQ(strip("a=1;\tcorral_affinity\t=x", buffer), "a=1");
}

TEST(StripCookie, EmptyPairsGoWithOurs) {
  std::array<char, 256> buffer;
  EXPECT_EQ(strip("a=1;; corral_affinity=x; ;b=2;", buffer), "a=1;b=2");
  EXPECT_EQ(strip("a=1; corral_affinity=x;", buffer), "a=1");
  EXPECT_EQ(strip("", buffer), "");
}

TEST(StripCookie, AShortBufferFailsOnlyWhenACopyIsNeeded) {
  std::array<char, 4> small;
  EXPECT_EQ(strip_cookie("a=1; corral_affinity=x; b=2", affinity_cookie_name, small), std::nullopt);
  EXPECT_EQ(strip_cookie("a=1; b=2; corral_affinity=x", affinity_cookie_name, small), "a=1; b=2");
  EXPECT_EQ(strip_cookie("a=1; b=2; corral_affinity=x", affinity_cookie_name, {}), "a=1; b=2");
}

TEST(StripCookie, TheCopyIsNeverLongerThanTheHeader) {
  // Many one-character pairs around a short one of ours: the joins must not add room.
  std::string header;
  for (int i = 0; i < 50; ++i) header += "a;";
  header += "corral_affinity=;";
  for (int i = 0; i < 50; ++i) header += "b;";
  std::vector<char> buffer(header.size());
  const auto got = strip_cookie(header, affinity_cookie_name, buffer);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->find("corral_affinity"), std::string_view::npos);
  EXPECT_LT(got->size(), header.size());
}

}  // namespace
}  // namespace corral::session
