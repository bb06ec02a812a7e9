// The client's address and https as trusted proxies forward them (trusted_proxies).
#include "proxy/client_address.hpp"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "proxy/header_rewrite.hpp"

namespace corral::proxy {
namespace {

using Lines = std::vector<std::pair<std::string, std::string>>;

Fields make(const Lines& lines) {
  Fields h;
  for (const auto& [name, value] : lines) h.insert(name, value);
  return h;
}

std::vector<config::Cidr> ranges(std::initializer_list<std::string_view> texts) {
  std::vector<config::Cidr> out;
  for (auto text : texts) out.push_back(config::parse_cidr(text).value());
  return out;
}

const auto trusted = ranges({"127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"});
constexpr std::string_view peer = "10.0.0.5";

std::string resolve(const Lines& lines, bool peer_trusted = true) {
  auto h = make(lines);
  return std::string(client_address(h, peer, peer_trusted, trusted));
}

TEST(ClientAddress, PeerWhenNoHeader) {
  EXPECT_EQ(resolve({{"Host", "a"}}), "10.0.0.5");
}

TEST(ClientAddress, UntrustedPeerCannotChooseItsAddress) {
  // A client that sends X-Forwarded-For itself keeps its own address as the key.
  EXPECT_EQ(resolve({{"X-Forwarded-For", "198.51.100.1"}}, false), "10.0.0.5");
  EXPECT_EQ(resolve({{"X-Forwarded-For", "127.0.0.1, 198.51.100.1"}}, false), "10.0.0.5");
}

TEST(ClientAddress, TrustedPeerGivesTheForwardedClient) {
  EXPECT_EQ(resolve({{"X-Forwarded-For", "198.51.100.1"}}), "198.51.100.1");
  EXPECT_EQ(resolve({{"x-forwarded-for", "2001:db8::7"}}), "2001:db8::7");
}

TEST(ClientAddress, RightMostUntrustedEntryWins) {
  // The client put a made-up address in front; the trusted proxy appended the real one.
  EXPECT_EQ(resolve({{"X-Forwarded-For", "203.0.113.66, 198.51.100.1"}}), "198.51.100.1");
}

TEST(ClientAddress, ChainOfTrustedProxiesIsSkipped) {
  EXPECT_EQ(resolve({{"X-Forwarded-For", "198.51.100.1, 10.1.1.1, 127.0.0.1"}}), "198.51.100.1");
  EXPECT_EQ(resolve({{"X-Forwarded-For", "198.51.100.1, fd00::9, ::1"}}), "198.51.100.1");
  EXPECT_EQ(resolve({{"X-Forwarded-For", "198.51.100.1, ::ffff:10.2.2.2"}}), "198.51.100.1");
}

TEST(ClientAddress, AllTrustedGivesTheLeftMost) {
  EXPECT_EQ(resolve({{"X-Forwarded-For", "10.9.9.9, 10.1.1.1, 127.0.0.1"}}), "10.9.9.9");
}

TEST(ClientAddress, MalformedEntryStopsTheWalk) {
  // Nothing to the left of a malformed entry is believed: the last good one is the answer.
  EXPECT_EQ(resolve({{"X-Forwarded-For", "198.51.100.1, unknown, 10.1.1.1"}}), "10.1.1.1");
  EXPECT_EQ(resolve({{"X-Forwarded-For", "198.51.100.1, unknown"}}), "10.0.0.5");
  EXPECT_EQ(resolve({{"X-Forwarded-For", "198.51.100.1, 198.51.100.2:4711"}}), "10.0.0.5");
  EXPECT_EQ(resolve({{"X-Forwarded-For", "198.51.100.1, [2001:db8::1]"}}), "10.0.0.5");
  EXPECT_EQ(resolve({{"X-Forwarded-For", "198.51.100.1 10.1.1.1"}}), "10.0.0.5");
}

TEST(ClientAddress, BlanksAndEmptyElementsAreIgnored) {
  EXPECT_EQ(resolve({{"X-Forwarded-For", " 198.51.100.1 ,\t10.1.1.1 "}}), "198.51.100.1");
  EXPECT_EQ(resolve({{"X-Forwarded-For", "198.51.100.1,, 10.1.1.1,"}}), "198.51.100.1");
  EXPECT_EQ(resolve({{"X-Forwarded-For", ""}}), "10.0.0.5");
}

TEST(ClientAddress, SeveralFieldsAreOneListInOrder) {
  Lines lines{{"X-Forwarded-For", "203.0.113.66, 198.51.100.1"},
              {"Host", "a"},
              {"X-Forwarded-For", "10.1.1.1"},
              {"X-Forwarded-For", "127.0.0.1"}};
  EXPECT_EQ(resolve(lines), "198.51.100.1");
  Lines untrusted_last{{"X-Forwarded-For", "198.51.100.1"}, {"X-Forwarded-For", "203.0.113.5"}};
  EXPECT_EQ(resolve(untrusted_last), "203.0.113.5");
  Lines malformed_later{{"X-Forwarded-For", "198.51.100.1"}, {"X-Forwarded-For", "10.1.1.1, x"}};
  EXPECT_EQ(resolve(malformed_later), "10.0.0.5");
}

TEST(ClientAddress, ViewsIntoTheHeaderOrThePeer) {
  auto h = make({{"X-Forwarded-For", "198.51.100.1"}});
  auto got = client_address(h, peer, true, trusted);
  std::string_view field = h["X-Forwarded-For"];
  EXPECT_GE(got.data(), field.data());
  EXPECT_LE(got.data() + got.size(), field.data() + field.size());
  auto none = make({});
  EXPECT_EQ(client_address(none, peer, true, trusted).data(), peer.data());
}

// rewrite_request appends the peer to X-Forwarded-For; since a peer is only believed when it is
// trusted, the appended entry is skipped and the answer is the same before and after.
TEST(ClientAddress, SameAnswerAfterRewriteRequestAppendsThePeer) {
  for (const Lines& lines :
       {Lines{}, Lines{{"X-Forwarded-For", "198.51.100.1"}},
        Lines{{"X-Forwarded-For", "10.9.9.9, 127.0.0.1"}},
        Lines{{"X-Forwarded-For", "198.51.100.1, bad"}},
        Lines{{"X-Forwarded-For", "198.51.100.1"}, {"X-Forwarded-For", "10.1.1.1"}}}) {
    auto h = make(lines);
    const std::string before(client_address(h, peer, true, trusted));
    rewrite_request(h, ForwardContext{peer, false, "r"}, false);
    EXPECT_EQ(std::string(client_address(h, peer, true, trusted)), before)
        << h["X-Forwarded-For"];
  }
}

TEST(TrustedProxy, PeerAddressAgainstRanges) {
  namespace ip = boost::asio::ip;
  EXPECT_TRUE(is_trusted_proxy(ip::make_address("127.0.0.1"), trusted));
  EXPECT_TRUE(is_trusted_proxy(ip::make_address("::ffff:10.1.2.3"), trusted));
  EXPECT_TRUE(is_trusted_proxy(ip::make_address("::1"), trusted));
  EXPECT_TRUE(is_trusted_proxy(ip::make_address("fd00::5"), trusted));
  EXPECT_FALSE(is_trusted_proxy(ip::make_address("::ffff:127.0.0.2"), trusted));
  EXPECT_FALSE(is_trusted_proxy(ip::make_address("198.51.100.1"), trusted));
  EXPECT_FALSE(is_trusted_proxy(ip::make_address("127.0.0.1"), {}));
}

TEST(ForwardedHttps, FirstValueCaseInsensitive) {
  EXPECT_TRUE(forwarded_https(make({{"X-Forwarded-Proto", "https"}})));
  EXPECT_TRUE(forwarded_https(make({{"x-forwarded-proto", " HTTPS "}})));
  EXPECT_TRUE(forwarded_https(make({{"X-Forwarded-Proto", "https, http"}})));
  EXPECT_FALSE(forwarded_https(make({{"X-Forwarded-Proto", "http, https"}})));
  EXPECT_FALSE(forwarded_https(make({{"X-Forwarded-Proto", "http"}})));
  EXPECT_FALSE(forwarded_https(make({{"X-Forwarded-Proto", "httpsx"}})));
  EXPECT_FALSE(forwarded_https(make({})));
}

TEST(AffinityCookieSecure, ByMode) {
  auto https = make({{"X-Forwarded-Proto", "https"}});
  auto plain = make({});
  using config::CookieSecure;
  EXPECT_TRUE(affinity_cookie_secure(CookieSecure::automatic, https, true));
  EXPECT_FALSE(affinity_cookie_secure(CookieSecure::automatic, https, false));  // not believed
  EXPECT_FALSE(affinity_cookie_secure(CookieSecure::automatic, plain, true));
  EXPECT_TRUE(affinity_cookie_secure(CookieSecure::always, plain, false));
  EXPECT_FALSE(affinity_cookie_secure(CookieSecure::never, https, true));
}

TEST(AffinityCookieSecure, TlsListenerIsHttpsWhateverTheHeaderSays) {
  auto plain = make({});
  using config::CookieSecure;
  EXPECT_TRUE(affinity_cookie_secure(CookieSecure::automatic, plain, false, /*tls=*/true));
  EXPECT_FALSE(affinity_cookie_secure(CookieSecure::never, plain, false, /*tls=*/true));
}


// A config with balance: sticky in `mode`, trusting 127.0.0.1.
config::Config sticky_with(config::StickyMode mode, config::StickyKeySource source) {
  config::Config c;
  c.balance = config::Balance::sticky;
  c.sticky.emplace();
  c.sticky->mode = mode;
  c.sticky->key_source = source;
  c.trusted_proxies = ranges({"127.0.0.1"});
  return c;
}

TEST(ForwardedClient, TlsConnectionIsHttpsAndSecure) {
  auto insert = sticky_with(config::StickyMode::insert, config::StickyKeySource::cookie);
  insert.trusted_proxies.clear();
  insert.sessions.emplace();
  ForwardedClient fc;
  fc.start(insert, boost::asio::ip::make_address("198.51.100.9"), /*tls=*/true);
  auto http_proto = make({{"X-Forwarded-Proto", "http"}});  // sent by the client: not believed
  fc.read(http_proto, "198.51.100.9");
  EXPECT_TRUE(fc.https());
  EXPECT_TRUE(fc.secure());
  EXPECT_TRUE(fc.session_secure());
  fc.start(insert, boost::asio::ip::make_address("198.51.100.9"), /*tls=*/false);
  fc.read(http_proto, "198.51.100.9");
  EXPECT_FALSE(fc.https());
  EXPECT_FALSE(fc.secure());
  EXPECT_FALSE(fc.session_secure());
}

TEST(ForwardedClient, ReadsBeforeRewriteAndKeepsItsOwnCopy) {
  auto s = sticky_with(config::StickyMode::hash, config::StickyKeySource::client_ip);
  ForwardedClient fc;
  fc.start(s, boost::asio::ip::make_address("127.0.0.1"));
  EXPECT_TRUE(fc.peer_trusted());
  auto h = make({{"X-Forwarded-For", "198.51.100.1"}, {"X-Forwarded-Proto", "https"}});
  const std::string_view peer_text = "127.0.0.1";
  fc.read(h, peer_text);
  rewrite_request(h, ForwardContext{peer_text, false, "r"}, false);  // replaces the field
  h.set("X-Forwarded-For", "overwritten-------------------------------------");
  EXPECT_EQ(fc.client_ip(), "198.51.100.1");
  EXPECT_FALSE(fc.secure());  // hash mode issues no cookie
  auto none = make({});
  fc.read(none, peer_text);
  EXPECT_EQ(fc.client_ip().data(), peer_text.data());
}

TEST(ForwardedClient, UntrustedPeerAndOtherKeys) {
  auto s = sticky_with(config::StickyMode::hash, config::StickyKeySource::client_ip);
  ForwardedClient fc;
  fc.start(s, boost::asio::ip::make_address("198.51.100.9"));
  EXPECT_FALSE(fc.peer_trusted());
  auto h = make({{"X-Forwarded-For", "198.51.100.1"}});
  fc.read(h, "198.51.100.9");
  EXPECT_EQ(fc.client_ip(), "198.51.100.9");

  auto insert = sticky_with(config::StickyMode::insert, config::StickyKeySource::cookie);
  fc.start(insert, boost::asio::ip::make_address("127.0.0.1"));
  auto proto = make({{"X-Forwarded-Proto", "https"}});
  fc.read(proto, "127.0.0.1");
  EXPECT_TRUE(fc.secure());
  fc.start(insert, boost::asio::ip::make_address("127.0.0.2"));
  fc.read(proto, "127.0.0.2");
  EXPECT_FALSE(fc.secure());

  config::Config plain;  // not sticky, trusting nobody
  ForwardedClient none;
  none.start(plain, boost::asio::ip::make_address("127.0.0.1"));
  none.read(proto, "127.0.0.1");
  EXPECT_FALSE(none.peer_trusted());
  EXPECT_FALSE(none.https());
  EXPECT_FALSE(none.secure());
  EXPECT_EQ(none.client_ip(), "127.0.0.1");

  // Not sticky, behind a trusted proxy: only the scheme is taken.
  plain.trusted_proxies = ranges({"127.0.0.1"});
  none.start(plain, boost::asio::ip::make_address("127.0.0.1"));
  none.read(proto, "127.0.0.1");
  EXPECT_TRUE(none.https());
  EXPECT_FALSE(none.secure());
}

}  // namespace
TEST(ForwardedClient, SessionCookieSecureFollowsSessionsSecure) {
  config::Config c;  // shared-state mode, not sticky
  c.sessions.emplace();
  c.trusted_proxies = ranges({"127.0.0.1"});
  auto proto = make({{"X-Forwarded-Proto", "https"}});
  auto plain = make({});
  ForwardedClient fc;
  fc.start(c, boost::asio::ip::make_address("127.0.0.1"));
  fc.read(proto, "127.0.0.1");
  EXPECT_TRUE(fc.session_secure());  // auto: a trusted proxy says https
  EXPECT_FALSE(fc.secure());         // no corral_affinity here
  fc.read(plain, "127.0.0.1");
  EXPECT_FALSE(fc.session_secure());
  fc.start(c, boost::asio::ip::make_address("127.0.0.2"));
  fc.read(proto, "127.0.0.2");
  EXPECT_FALSE(fc.session_secure());  // not believed

  c.sessions->secure = config::CookieSecure::always;
  fc.start(c, boost::asio::ip::make_address("127.0.0.2"));
  fc.read(plain, "127.0.0.2");
  EXPECT_TRUE(fc.session_secure());
  c.sessions->secure = config::CookieSecure::never;
  fc.start(c, boost::asio::ip::make_address("127.0.0.1"));
  fc.read(proto, "127.0.0.1");
  EXPECT_FALSE(fc.session_secure());

  config::Config without;  // no sessions: section
  without.trusted_proxies = ranges({"127.0.0.1"});
  fc.start(without, boost::asio::ip::make_address("127.0.0.1"));
  fc.read(proto, "127.0.0.1");
  EXPECT_FALSE(fc.session_secure());
}

}  // namespace corral::proxy
