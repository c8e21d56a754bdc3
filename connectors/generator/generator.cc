#include "connectors/generator/generator.h"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "base/time_util.h"
#include "connectors/generator/internal/calendar.h"
#include "connectors/generator/internal/csv_writer.h"
#include "connectors/generator/internal/names.h"
#include "connectors/generator/internal/random.h"

namespace txflag::generator {

using internal::CivilDate;
using internal::CsvField;
using internal::CsvWriter;
using internal::Mix;
using internal::Rng;
using internal::Weighted;

namespace {

constexpr int64_t kMaxAccounts = 5'000'000;
constexpr int kMaxDays = 3660;

// ---------------------------------------------------------------------------
// Payments in memory.

enum Channel : uint8_t {
  kTransfer,
  kCard,
  kMobile,
  kCash,
  kRemittance,
  kDirectDebit
};
constexpr std::string_view kChannelNames[] = {
    "TRANSFER", "CARD", "MOBILE", "CASH", "REMITTANCE", "DIRECT_DEBIT"};

enum Currency : uint8_t { kDkk, kEur };

// One payment of the day being generated. Parties are indexes into the party
// table; the reference is a slice of the day's arena, already CSV-quoted.
struct Event {
  int64_t ts;
  int64_t amount;  // minor units
  int32_t debtor;
  int32_t creditor;
  uint32_t ref_off;
  uint16_t ref_len;
  uint16_t mcc;
  uint8_t channel;
  uint8_t currency;
};

// ---------------------------------------------------------------------------
// Population.

enum class Kind : uint8_t { kWorker, kStudent, kPensioner, kBusiness };

enum class Trap : uint8_t {
  kNone,
  kLandlord,
  kClubTreasurer,
  kStudent,
  kShopAds,
  kMigrantWorker,
  kBusinessTraveller,
  kMassageSalon,
  kEmployer,
  kMover,
  kReseller,
  kTaxiDriver,
  kCount
};
constexpr std::string_view kTrapNames[] = {
    "",         "landlord",       "club_treasurer",     "student",
    "shop_ads", "migrant_worker", "business_traveller", "massage_salon",
    "employer", "mover",          "reseller",           "taxi_driver"};
// Share of customers (per 10,000) for trap_scale 1; at least 3 each.
constexpr int kTrapPer10k[] = {0,   60, 50,  300, 80,  200,
                               100, 20, 100, 100, 100, 30};

enum class Role : uint8_t {
  kNone,
  kVictim,
  kWorker,
  kController,
  kLandlord,
  kRecruiter,
  kAgency,
  kEmployer
};
constexpr std::string_view kRoleNames[] = {
    "",         "victim",    "worker", "controller",
    "landlord", "recruiter", "agency", "employer"};

constexpr int32_t kNoParty = -1;

struct Customer {
  int32_t party = kNoParty;
  Kind kind = Kind::kWorker;
  Trap trap = Trap::kNone;
  Role role = Role::kNone;
  uint8_t card_level = 1;    // 0 low, 1 mid, 2 high
  uint16_t mobile_pm = 200;  // per-mille chance of a MobilePay a day
  bool rent_direct_debit = false;
  bool homeowner = false;
  uint8_t rent_dom = 1;   // nominal day of month rent is due
  uint8_t utilities = 0;  // bitmask over kUtilities
  int16_t ring = -1;
  int32_t employer = kNoParty;  // party paying salary / SU / pension
  int32_t landlord = kNoParty;  // party paid rent (or mortgage)
  int64_t salary = 0;           // minor units a month
  int64_t rent = 0;             // minor units a month
  uint32_t friends_begin = 0;
  uint8_t friends_n = 0;
  int32_t group = -1;    // index into groups_ (tenants, members, ...)
  int32_t next_day = 0;  // trap state (next trip, move day, ...)
  int32_t aux = 0;       // trap state
  uint64_t key = 0;      // per-customer parameter seed
};

struct Utility {
  std::string_view name;
  int lo, hi;  // DKK a month
  Channel channel;
};
constexpr Utility kUtilities[] = {
    {"Ørsted Salg & Service", 300, 1400, kDirectDebit},
    {"Andel Energi", 300, 1400, kDirectDebit},
    {"Norlys", 250, 1200, kDirectDebit},
    {"Telenor", 99, 399, kDirectDebit},
    {"Telia", 99, 349, kDirectDebit},
    {"YouSee", 199, 699, kDirectDebit},
    {"Tryg Forsikring", 300, 1400, kDirectDebit},
    {"Alka Forsikring", 250, 1100, kDirectDebit},
    {"Fitness World", 199, 349, kDirectDebit},
    {"3F A-kasse", 450, 560, kDirectDebit},
    {"HOFOR", 200, 700, kDirectDebit},
    {"Netflix", 79, 149, kCard},
    {"Spotify", 99, 179, kCard},
};
constexpr int kUtilityN = sizeof(kUtilities) / sizeof(kUtilities[0]);

enum class Typology : uint8_t { kSe, kFl, kDb };
constexpr std::string_view kTypologyNames[] = {"SE", "FL", "DB"};

// Indicators a ring can show (names used in rings.csv).
enum Indicator : uint32_t {
  kSmallTransfersIn = 1u << 0,
  kAdPayments = 1u << 1,
  kRentHighRate = 1u << 2,
  kRentManyPayers = 1u << 3,
  kRentSeveralLandlords = 1u << 4,
  kPassThrough = 1u << 5,
  kNightCash = 1u << 6,
  kRemittanceAbroad = 1u << 7,
  kWageSkimming = 1u << 8,
  kRecruitmentFees = 1u << 9,
  kWagesOneAccount = 1u << 10,
  kFixedInstalments = 1u << 11,
  kRemittanceDebt = 1u << 12,
};
constexpr std::string_view kIndicatorNames[] = {"small_transfers_in",
                                                "ad_payments",
                                                "rent_high_rate",
                                                "rent_many_payers",
                                                "rent_several_landlords",
                                                "pass_through",
                                                "night_cash",
                                                "remittance_abroad",
                                                "wage_skimming",
                                                "recruitment_fees",
                                                "wages_one_account",
                                                "fixed_instalments",
                                                "remittance_debt"};

struct RingMember {
  int32_t customer;
  Role role;
  // Per-member schedule and state.
  int64_t pending = 0;   // takings or wages not yet forwarded (minor)
  int32_t due_day = -1;  // day index of the next forward / instalment
  int32_t next_ad = 0;
  int32_t next_cash = 0;
  int32_t next_remit = 0;
  int32_t hire_day = 0;
  int32_t weekday = 0;  // weekday of weekly payments
  int64_t amount = 0;   // fixed amount (rent, instalment, wage)
  int64_t total = 0;    // cumulative remitted
  bool wage_to_recruiter = false;
};

struct Ring {
  int id = 0;
  Typology typology = Typology::kSe;
  uint32_t indicators = 0;
  bool weak = false;
  std::vector<RingMember> members;  // victims/workers first
  int victims = 0;
  int controller = -1;  // member index
  int landlord = -1;
  int recruiter = -1;
  int agency = -1;
  int employer = -1;
  const internal::OriginNames* origin = nullptr;
  // SE
  int buyers_lo = 2, buyers_hi = 8;
  double active_p = 0.8, night_share = 0.8, repeat_p = 0.2;
  int amount_lo = 300, amount_hi = 2500;
  int ad_every_lo = 2, ad_every_hi = 6, ad_lo = 100, ad_hi = 800;
  bool ads_by_controller = false;
  int ad_sites[2] = {0, 1};
  bool rent_daily = true;
  int rent_lo = 500, rent_hi = 1000;
  std::vector<int32_t> extra_landlords;  // parties (rent_several_landlords)
  double pass_share = 0.7;
  int pass_lag = 1;
  int cash_every_lo = 2, cash_every_hi = 6;
  int32_t beneficiary = kNoParty;
  int remit_every = 7;
  int remit_lo = 2000, remit_hi = 10000;
  Currency remit_currency = kDkk;
  int64_t debt = 0;
  std::vector<int32_t> buyer_pool;  // parties of regular buyers
  // FL
  bool fortnightly = false;
  int skim_lo = 30, skim_hi = 60;
  int32_t wage_weekday = 4;
  // DB
  int instalment_every = 7;
};

// A day of the simulation, in local Copenhagen time.
struct DayInfo {
  int index = 0;
  int64_t days = 0;  // since 1970-01-01
  CivilDate date{};
  int weekday = 0;
  bool bank_day = false;
  bool last_bank_day_of_month = false;
  int nominal_lo = 0, nominal_hi = -1;  // due dates this bank day settles
  std::string_view month;
  std::string_view next_month;
  int64_t utc_base = 0;  // LocalToUtc(days, 0) when no DST change that day
  bool dst_change = false;
};

// Hour-of-day weights (local time).
const Weighted& CardHours() {
  static const Weighted w({1,  1,  0,  0,  0,  1,  3,  8,  12, 14, 16, 18,
                           22, 18, 16, 18, 24, 26, 22, 16, 10, 6,  3,  2});
  return w;
}
const Weighted& SocialHours() {
  static const Weighted w({2,  1,  0, 0,  0,  0,  1,  3,  5,  6,  8, 10,
                           12, 10, 9, 10, 12, 14, 16, 18, 16, 12, 8, 4});
  return w;
}
const Weighted& DayHours() {  // 08-20
  static const Weighted w({0,  0, 0, 0, 0, 0, 0, 0, 4, 6, 8, 9,
                           10, 9, 8, 8, 9, 9, 8, 6, 4, 0, 0, 0});
  return w;
}
// Night hours 20:00-04:00, as hours 20..27 (24+ = early next morning, which
// is the early morning of the same local day in the generator's model).
const Weighted& NightHours() {
  static const Weighted w({6, 10, 14, 16, 14, 10, 7, 4});
  return w;
}

// IBAN check digits for `bban` in `country`.
std::string IbanCheck(std::string_view country, std::string_view bban) {
  int mod = 0;
  auto feed = [&mod](char c) {
    if (c >= '0' && c <= '9') {
      mod = (mod * 10 + (c - '0')) % 97;
    } else {
      int v = (c >= 'a' ? c - 'a' : c - 'A') + 10;
      mod = (mod * 100 + v) % 97;
    }
  };
  for (char c : bban) feed(c);
  for (char c : country) feed(c);
  feed('0');
  feed('0');
  int check = 98 - mod;
  char buf[3] = {static_cast<char>('0' + check / 10),
                 static_cast<char>('0' + check % 10), 0};
  return buf;
}

// ---------------------------------------------------------------------------

class Generator {
 public:
  explicit Generator(const GeneratorOptions& options)
      : options_(options), rng_(options.seed) {}

  absl::StatusOr<GeneratorStats> Run(const std::string& out_dir,
                                     const GeneratorProgress& progress);

 private:
  // Parties.
  int32_t AddParty(std::string_view account, std::string_view name,
                   std::string_view country);
  std::string DkAccount(bool own_bank);
  std::string ForeignAccount(std::string_view country);
  std::string DanishName(bool female);
  std::string OriginName(const internal::OriginNames& o);
  std::string CompanyName();
  std::string_view Account(int32_t party) const;

  // Population build.
  void BuildExternal();
  void BuildCustomers();
  void BuildRings();
  void BuildRing(Ring& ring);
  int TakeCustomer();
  int32_t ExternalPerson() { return rng_.Pick(external_persons_); }
  // A private person at another bank who is in no other role.
  int32_t NewExternalPerson() {
    return AddParty(DkAccount(false), DanishName(rng_.Chance(0.5)), "DK");
  }
  int32_t Merchant(int category) { return rng_.Pick(merchants_[category]); }

  // Simulation.
  DayInfo MakeDay(int index) const;
  int64_t At(int seconds_of_day) const;
  int64_t AtHour(int hour);
  int64_t AtHours(const Weighted& hours);
  int64_t AtNight();
  void Emit(int64_t ts, int32_t debtor, int32_t creditor, int64_t minor,
            Channel channel, std::string_view ref, int mcc = 0,
            Currency currency = kDkk);
  void Card(int32_t payer, int category, int64_t ts, bool eur = false);
  void CustomerDay(int ci);
  void NormalDay(Customer& c);
  void TrapDay(Customer& c);
  void RingDay(Ring& r);
  void SeDay(Ring& r);
  void FlDay(Ring& r);
  void DbDay(Ring& r);
  absl::Status FlushDay(CsvWriter& out);
  absl::Status WriteSideFiles(const std::string& dir);

  const GeneratorOptions& options_;
  Rng rng_;
  GeneratorStats stats_;

  std::vector<std::string> parties_;  // CSV "account,name,country"
  int64_t account_counter_ = 0;
  std::vector<int32_t> external_persons_;
  std::vector<int32_t> external_men_;  // buyers of sex are mostly men
  std::vector<int32_t> external_employers_;
  std::vector<int32_t> landlord_companies_;
  std::vector<int32_t> private_landlords_;
  std::vector<int32_t> mortgage_banks_;
  std::vector<int32_t> utilities_;
  std::vector<std::vector<int32_t>> merchants_;  // by kCategories index
  std::vector<int32_t> atms_;
  std::vector<int32_t> deposit_points_;
  std::vector<int32_t> foreign_shops_;                   // EUR web shops
  std::vector<int32_t> foreign_taxis_, foreign_hotels_;  // EUR
  std::vector<int32_t> client_companies_;
  std::vector<int32_t> ad_sites_;
  int32_t su_agency_ = 0, pension_agency_ = 0, skat_ = 0, pension_fund_ = 0;
  int32_t google_ads_ = 0, meta_ads_ = 0, eb_ads_ = 0;
  int32_t taxi_central_ = 0;

  std::vector<Customer> customers_;
  std::vector<int32_t> free_;  // shuffled customer indexes not yet assigned
  std::vector<int32_t> friends_;
  std::vector<std::vector<int32_t>> groups_;
  std::vector<int32_t> employer_customers_;  // customer indexes
  std::vector<Ring> rings_;
  int64_t labelled_ = 0;

  // The day being generated.
  DayInfo day_;
  std::vector<Event> events_;
  std::string refs_;
  std::vector<uint32_t> order_, counts_;
  int64_t next_id_ = 1;
  int64_t last_ts_ = INT64_MIN;
  std::string date_prefix_;
  int64_t date_prefix_day_ = INT64_MIN;
};

int32_t Generator::AddParty(std::string_view account, std::string_view name,
                            std::string_view country) {
  std::string csv = CsvField(account);
  csv.push_back(',');
  csv += CsvField(name);
  csv.push_back(',');
  csv += CsvField(country);
  parties_.push_back(std::move(csv));
  return static_cast<int32_t>(parties_.size() - 1);
}

std::string_view Generator::Account(int32_t party) const {
  std::string_view csv = parties_[party];
  return csv.substr(0, csv.find(','));
}

std::string Generator::DkAccount(bool own_bank) {
  // Registration numbers: the simulated bank uses 9580; the others are
  // typical of Danske Bank, Nordea, Jyske Bank, Sydbank, Nykredit, Arbejdernes
  // Landsbank, Spar Nord and Lån & Spar.
  static constexpr std::string_view kOtherRegs[] = {
      "3001", "3409", "2191", "2277", "7040", "7321",
      "6610", "5470", "5301", "9037", "0400", "5350"};
  std::string_view reg = own_bank ? "9580" : rng_.Pick(kOtherRegs);
  // A bijective scramble of a counter: unique, but not visibly sequential.
  uint64_t n = static_cast<uint64_t>(
      (static_cast<unsigned __int128>(account_counter_++) * 6364136223ULL +
       1442695041ULL) %
      10000000000ULL);
  char digits[11];
  for (int i = 9; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + n % 10);
    n /= 10;
  }
  digits[10] = 0;
  std::string bban = absl::StrCat(Av(reg), digits);
  return absl::StrCat("DK", IbanCheck("DK", bban), bban);
}

std::string Generator::ForeignAccount(std::string_view country) {
  auto digits = [this](int n) {
    std::string s(n, '0');
    for (char& c : s) c = static_cast<char>('0' + rng_.Below(10));
    return s;
  };
  std::string bban;
  if (country == "PL")
    bban = digits(24);
  else if (country == "RO")
    bban = "BTRL" + digits(16);
  else if (country == "UA")
    bban = digits(25);
  else if (country == "BG")
    bban = "UNCR" + digits(14);
  else if (country == "DE")
    bban = digits(18);
  else if (country == "IE")
    bban = "CITI" + digits(14);
  else if (country == "NL")
    bban = "INGB" + digits(10);
  else if (country == "LU")
    bban = digits(16);
  else if (country == "BR")
    bban = digits(23) + "C1";
  else if (country == "MA")
    bban = digits(24);
  else if (country == "FR" || country == "ES")
    bban = digits(country == "FR" ? 23 : 20);
  else {
    // No IBAN (NG, TH): a pseudo-account of the receiving wallet or bank.
    return absl::StrCat(Av(country), digits(10));
  }
  return absl::StrCat(Av(country), IbanCheck(country, bban), bban);
}

std::string Generator::DanishName(bool female) {
  std::string name(female ? rng_.Pick(internal::kDanishFemale)
                          : rng_.Pick(internal::kDanishMale));
  name.push_back(' ');
  if (rng_.Chance(0.2)) {
    name += rng_.Pick(internal::kMiddleName);
    name.push_back(' ');
  }
  name += rng_.Pick(internal::kDanishSurname);
  return name;
}

std::string Generator::OriginName(const internal::OriginNames& o) {
  return absl::StrCat(Av(o.first[rng_.Below(o.first_n)]), " ",
                      Av(o.last[rng_.Below(o.last_n)]));
}

std::string Generator::CompanyName() {
  return absl::StrCat(Av(rng_.Pick(internal::kCompanyFirst)), " ",
                      Av(rng_.Pick(internal::kCompanySecond)), " ",
                      Av(rng_.Pick(internal::kCompanyForm)));
}

void Generator::BuildExternal() {
  const int64_t n = options_.accounts;
  // Cash: parties without an account.
  for (int i = 0; i < std::max<int64_t>(20, n / 500); ++i) {
    atms_.push_back(AddParty(
        "", absl::StrCat("Hæveautomat ", Av(rng_.Pick(internal::kTowns))),
        "DK"));
  }
  for (int i = 0; i < std::max<int64_t>(10, n / 2000); ++i) {
    deposit_points_.push_back(AddParty(
        "",
        absl::StrCat("Kontant indbetaling ", Av(rng_.Pick(internal::kTowns))),
        "DK"));
  }
  // Private persons at other banks.
  for (int64_t i = 0; i < std::max<int64_t>(2000, n / 2); ++i) {
    std::string account = DkAccount(false);
    bool female = rng_.Chance(0.5);
    external_persons_.push_back(AddParty(account, DanishName(female), "DK"));
    if (!female) external_men_.push_back(external_persons_.back());
  }
  static constexpr std::string_view kBigEmployers[] = {
      "Region Hovedstaden",
      "Københavns Kommune",
      "Aarhus Kommune",
      "Novo Nordisk A/S",
      "A.P. Møller - Mærsk A/S",
      "Carlsberg Danmark A/S",
      "Vestas Wind Systems A/S",
      "Danske Bank A/S",
      "ISS Facility Services A/S",
      "Coop Danmark A/S",
      "Salling Group A/S",
      "Region Midtjylland",
      "Odense Kommune",
      "Aalborg Universitet",
      "Forsvarsministeriet",
      "DSB",
      "Arla Foods amba",
      "LEGO System A/S",
      "Grundfos A/S",
      "Ørsted A/S"};
  for (std::string_view name : kBigEmployers) {
    std::string account = DkAccount(false);
    external_employers_.push_back(AddParty(account, name, "DK"));
  }
  for (int64_t i = 0; i < std::max<int64_t>(50, n / 60); ++i) {
    std::string account = DkAccount(false);
    external_employers_.push_back(AddParty(account, CompanyName(), "DK"));
  }
  for (int64_t i = 0; i < std::max<int64_t>(40, n / 100); ++i) {
    std::string account = DkAccount(false);
    client_companies_.push_back(AddParty(account, CompanyName(), "DK"));
  }
  static constexpr std::string_view kLandlords[] = {
      "KAB",
      "AAB",
      "FSB",
      "Lejerbo",
      "DAB",
      "Boligkontoret Danmark",
      "Domea.dk",
      "Civica",
      "Himmerland Boligforening",
      "Boligselskabet Sjælland",
      "Heimstaden",
      "Taurus Ejendomme",
      "DEAS",
      "CEJ Ejendomsadministration",
      "Dan-Ejendomme",
      "Boligforeningen 3B",
      "Århus Omegn",
      "Fællesbo"};
  for (std::string_view name : kLandlords) {
    std::string account = DkAccount(false);
    landlord_companies_.push_back(AddParty(account, name, "DK"));
  }
  for (int64_t i = 0; i < std::max<int64_t>(30, n / 300); ++i) {
    std::string account = DkAccount(false);
    private_landlords_.push_back(
        AddParty(account, DanishName(rng_.Chance(0.5)), "DK"));
  }
  for (std::string_view name :
       {"Totalkredit", "Nykredit Realkredit", "Realkredit Danmark", "BRFkredit",
        "DLR Kredit"}) {
    std::string account = DkAccount(false);
    mortgage_banks_.push_back(AddParty(account, name, "DK"));
  }
  for (const Utility& u : kUtilities) {
    std::string account = DkAccount(false);
    utilities_.push_back(AddParty(account, u.name, "DK"));
  }
  merchants_.resize(std::size(internal::kCategories));
  const int64_t branches = std::max<int64_t>(3, n / 2500);
  for (size_t c = 0; c < std::size(internal::kCategories); ++c) {
    const internal::MerchantCategory& cat = internal::kCategories[c];
    for (int b = 0; b < cat.brand_n; ++b) {
      int64_t count =
          cat.weight >= 6 ? branches : std::max<int64_t>(2, branches / 3);
      for (int64_t i = 0; i < count; ++i) {
        std::string account = DkAccount(false);
        std::string name = absl::StrCat(Av(cat.brands[b]), " ",
                                        Av(rng_.Pick(internal::kTowns)));
        merchants_[c].push_back(AddParty(account, name, "DK"));
      }
    }
  }
  struct Foreign {
    std::string_view name, country;
  };
  for (Foreign f :
       {Foreign{"ZALANDO SE", "DE"}, Foreign{"AMAZON EU SARL", "LU"},
        Foreign{"BOOKING.COM", "NL"}, Foreign{"AIRBNB", "IE"},
        Foreign{"STEAM GAMES", "LU"}}) {
    foreign_shops_.push_back(
        AddParty(ForeignAccount(f.country), f.name, f.country));
  }
  for (Foreign f :
       {Foreign{"TAXI BERLIN", "DE"}, Foreign{"TAXI HAMBURG", "DE"},
        Foreign{"G7 TAXI PARIS", "FR"}, Foreign{"TAXI AMSTERDAM", "NL"},
        Foreign{"FREE NOW MADRID", "ES"}}) {
    foreign_taxis_.push_back(
        AddParty(ForeignAccount(f.country), f.name, f.country));
  }
  for (Foreign f :
       {Foreign{"NH HOTEL BERLIN", "DE"}, Foreign{"MARRIOTT HAMBURG", "DE"},
        Foreign{"IBIS PARIS", "FR"}, Foreign{"MOTEL ONE AMSTERDAM", "NL"},
        Foreign{"HOTEL MADRID CENTRO", "ES"}}) {
    foreign_hotels_.push_back(
        AddParty(ForeignAccount(f.country), f.name, f.country));
  }
  su_agency_ = AddParty(DkAccount(false),
                        "Uddannelses- og Forskningsstyrelsen SU", "DK");
  pension_agency_ = AddParty(DkAccount(false), "Udbetaling Danmark", "DK");
  skat_ = AddParty(DkAccount(false), "Skattestyrelsen", "DK");
  pension_fund_ = AddParty(DkAccount(false), "PensionDanmark", "DK");
  google_ads_ = AddParty(ForeignAccount("IE"), "GOOGLE ADS", "IE");
  meta_ads_ = AddParty(ForeignAccount("IE"), "META ADS", "IE");
  eb_ads_ = AddParty(DkAccount(false), "Ekstra Bladet annoncer", "DK");
  taxi_central_ = AddParty(DkAccount(false), "Dantaxi 4x48 A.m.b.A.", "DK");
  for (std::string_view site : internal::kAdSites) {
    ad_sites_.push_back(AddParty(DkAccount(false), site, "DK"));
  }
}

int Generator::TakeCustomer() {
  int ci = free_.back();
  free_.pop_back();
  return ci;
}

// Normal customers and traps: kinds, incomes, rent, habits, friends.
void Generator::BuildCustomers() {
  const int64_t n = options_.accounts;
  customers_.resize(n);
  for (int64_t i = 0; i < n; ++i) customers_[i].key = rng_.Next();

  // Traps first take customers from the shuffled pool; rings were already
  // taken, so the two never overlap.
  for (int t = 1; t < static_cast<int>(Trap::kCount); ++t) {
    if (options_.trap_scale <= 0) break;
    int64_t count =
        static_cast<int64_t>(static_cast<double>(n) * kTrapPer10k[t] / 10000.0 *
                             options_.trap_scale);
    count = std::max<int64_t>(count, 3);
    for (int64_t i = 0; i < count && free_.size() > n / 4; ++i) {
      customers_[TakeCustomer()].trap = static_cast<Trap>(t);
    }
  }

  // Kinds and names.
  for (int64_t ci = 0; ci < n; ++ci) {
    Customer& c = customers_[ci];
    Rng r(c.key);
    bool business = c.trap == Trap::kShopAds || c.trap == Trap::kMassageSalon ||
                    c.trap == Trap::kEmployer || c.role == Role::kEmployer ||
                    c.role == Role::kAgency;
    if (c.role == Role::kNone && c.trap == Trap::kNone && r.Chance(0.04)) {
      business = true;
    }
    std::string name;
    if (c.role != Role::kNone) {
      const Ring& ring = rings_[c.ring];
      if (business) {
        name = CompanyName();
      } else if (c.role == Role::kVictim || c.role == Role::kWorker ||
                 r.Chance(0.5)) {
        name = OriginName(*ring.origin);
      } else {
        name = DanishName(r.Chance(0.3));
      }
      c.kind = business ? Kind::kBusiness : Kind::kWorker;
    } else if (business) {
      c.kind = Kind::kBusiness;
      if (c.trap == Trap::kMassageSalon) {
        static constexpr std::string_view kSalons[] = {
            "Thai Massage", "Wellness Spa", "Massageklinik", "Body & Soul Spa",
            "Sabai Thai Massage"};
        name = absl::StrCat(Av(rng_.Pick(kSalons)), " ",
                            Av(rng_.Pick(internal::kTowns)), " ApS");
      } else {
        name = CompanyName();
      }
    } else if (c.trap == Trap::kMigrantWorker) {
      static constexpr int kMigrantOrigins[] = {3, 3, 2, 4};  // PL PL RO UA
      c.aux = kMigrantOrigins[r.Below(4)];
      name = OriginName(internal::kOrigins[c.aux]);
    } else {
      name = DanishName(r.Chance(0.5));
    }
    if (c.kind != Kind::kBusiness && c.role == Role::kNone) {
      if (c.trap == Trap::kStudent) {
        c.kind = Kind::kStudent;
      } else if (c.trap == Trap::kNone) {
        uint64_t k = r.Below(100);
        c.kind = k < 8    ? Kind::kStudent
                 : k < 25 ? Kind::kPensioner
                          : Kind::kWorker;
      }
    }
    c.party = AddParty(DkAccount(true), name, "DK");
  }

  // Employers among customers (payroll traps) take employees from the
  // workers; everyone else works for an external employer.
  for (int64_t ci = 0; ci < n; ++ci) {
    if (customers_[ci].trap == Trap::kEmployer)
      employer_customers_.push_back(ci);
  }
  for (int64_t ci = 0; ci < n; ++ci) {
    Customer& c = customers_[ci];
    Rng r(Mix(c.key, 1));
    c.card_level = static_cast<uint8_t>(r.Below(3));
    c.mobile_pm = static_cast<uint16_t>(r.Between(150, 600));
    c.rent_dom = 1;
    c.utilities = 0;
    for (int u = 0; u < kUtilityN; ++u) {
      if (r.Chance(0.3)) c.utilities |= 1u << (u % 8);
    }
    if (c.role != Role::kNone) {
      // Ring members: habits set by BuildRing; a little normal spending.
      c.card_level = c.role == Role::kController ? 1 : 0;
      c.mobile_pm = c.role == Role::kController ? 150 : 40;
      if (c.role == Role::kVictim || c.role == Role::kWorker)
        c.utilities &= 0x09;
      continue;
    }
    switch (c.kind) {
      case Kind::kStudent:
        c.employer = su_agency_;
        c.salary = r.Between(6000, 6600) * 100 + (r.Chance(0.5) ? 0 : 32);
        c.mobile_pm = static_cast<uint16_t>(r.Between(200, 500));
        break;
      case Kind::kPensioner:
        c.employer = pension_agency_;
        c.salary = r.Between(12000, 19000) * 100;
        c.mobile_pm = static_cast<uint16_t>(r.Between(20, 120));
        break;
      case Kind::kWorker:
        if (!employer_customers_.empty() && r.Chance(0.15)) {
          c.employer = customers_[employer_customers_[r.Below(
                                      employer_customers_.size())]]
                           .party;
        } else {
          c.employer = external_employers_[r.Below(external_employers_.size())];
        }
        c.salary = (c.trap == Trap::kMigrantWorker ? r.Between(17000, 27000)
                                                   : r.Between(19000, 48000)) *
                       100 +
                   r.Between(0, 99);
        break;
      case Kind::kBusiness:
        break;
    }
    // Housing: tenants pay housing associations or private landlords.
    if (c.kind == Kind::kBusiness) {
      c.landlord = private_landlords_[r.Below(private_landlords_.size())];
      c.rent = r.Between(8000, 30000) * 100;
      c.rent_direct_debit = false;
    } else if (c.kind != Kind::kStudent && r.Chance(0.4)) {
      c.homeowner = true;
      c.landlord = mortgage_banks_[r.Below(mortgage_banks_.size())];
      c.rent = r.Between(6000, 24000) * 100 + r.Between(0, 99);
    } else {
      c.landlord =
          r.Chance(0.7)
              ? landlord_companies_[r.Below(landlord_companies_.size())]
              : private_landlords_[r.Below(private_landlords_.size())];
      c.rent = (c.kind == Kind::kStudent ? r.Between(2800, 5500)
                                         : r.Between(4500, 12500)) *
                   100 +
               (r.Chance(0.5) ? 0 : 50);
      c.rent_direct_debit = r.Chance(0.6);
    }
  }

  // Customer landlords (traps): tenants among customers and at other banks.
  for (int64_t ci = 0; ci < n; ++ci) {
    Customer& c = customers_[ci];
    if (c.trap != Trap::kLandlord) continue;
    Rng r(Mix(c.key, 2));
    bool association = r.Chance(0.1);
    int64_t tenants = association ? r.Between(50, 250) : r.Between(4, 30);
    std::vector<int32_t> group;  // external tenants: party, then rent
    for (int64_t i = 0; i < tenants; ++i) {
      if (r.Chance(0.25)) {
        int32_t tci = static_cast<int32_t>(r.Below(n));
        Customer& t = customers_[tci];
        if (t.trap == Trap::kNone && t.role == Role::kNone && !t.homeowner &&
            t.kind != Kind::kBusiness) {
          t.landlord = c.party;
          continue;
        }
      }
      // A tenant at another bank rents from this landlord only: drawing
      // from the shared pool of external persons would make some of them
      // tenants of several landlords at once, which real tenants are not.
      group.push_back(NewExternalPerson());
      group.push_back(static_cast<int32_t>(r.Between(4000, 11000)));
    }
    c.group = static_cast<int32_t>(groups_.size());
    groups_.push_back(std::move(group));
  }

  // Friends: mostly customers of the same bank, some at other banks.
  for (int64_t ci = 0; ci < n; ++ci) {
    Customer& c = customers_[ci];
    int k = static_cast<int>(rng_.Between(2, 8));
    c.friends_begin = static_cast<uint32_t>(friends_.size());
    c.friends_n = static_cast<uint8_t>(k);
    for (int i = 0; i < k; ++i) {
      friends_.push_back(rng_.Chance(0.6) ? customers_[rng_.Below(n)].party
                                          : ExternalPerson());
    }
  }

  // Trap-specific groups and state.
  for (int64_t ci = 0; ci < n; ++ci) {
    Customer& c = customers_[ci];
    Rng r(Mix(c.key, 3));
    std::vector<int32_t> group;
    switch (c.trap) {
      case Trap::kClubTreasurer: {
        int64_t members = r.Between(20, 60);
        for (int64_t i = 0; i < members; ++i) {
          group.push_back(r.Chance(0.3) ? customers_[r.Below(n)].party
                                        : ExternalPerson());
        }
        static constexpr int kFees[] = {250, 300, 400, 500, 600, 750};
        c.aux = kFees[r.Below(6)];
        c.next_day = static_cast<int32_t>(r.Below(options_.days));
        break;
      }
      case Trap::kStudent:
        for (int64_t i = 0, k = r.Between(2, 5); i < k; ++i) {
          group.push_back(ExternalPerson());
        }
        break;
      case Trap::kMigrantWorker: {
        const internal::OriginNames& o = internal::kOrigins[c.aux];
        group.push_back(
            AddParty(ForeignAccount(o.country), OriginName(o), o.country));
        c.next_day =
            static_cast<int32_t>(r.Between(1, 5));  // days after payday
        break;
      }
      case Trap::kEmployer:
        for (int64_t i = 0, k = r.Between(3, 40); i < k; ++i) {
          group.push_back(ExternalPerson());
          group.push_back(static_cast<int32_t>(r.Between(19000, 45000)));
        }
        c.card_level = 1;
        break;
      case Trap::kMassageSalon:
        for (int64_t i = 0, k = r.Between(1, 3); i < k; ++i) {
          group.push_back(ExternalPerson());
          group.push_back(static_cast<int32_t>(r.Between(14000, 26000)));
        }
        break;
      case Trap::kBusinessTraveller:
        c.next_day = static_cast<int32_t>(r.Below(10));
        break;
      case Trap::kMover:
        group.push_back(
            r.Chance(0.5)
                ? landlord_companies_[r.Below(landlord_companies_.size())]
                : private_landlords_[r.Below(private_landlords_.size())]);
        c.next_day =
            static_cast<int32_t>(r.Between(0, std::max(0, options_.days - 1)));
        if (c.landlord == kNoParty || c.homeowner) {
          c.homeowner = false;
          c.landlord = private_landlords_[r.Below(private_landlords_.size())];
          c.rent = r.Between(5000, 11000) * 100;
        }
        break;
      case Trap::kTaxiDriver:
        c.aux = static_cast<int32_t>(r.Below(7));  // weekday off
        c.employer = kNoParty;
        break;
      default:
        break;
    }
    if (!group.empty()) {
      c.group = static_cast<int32_t>(groups_.size());
      groups_.push_back(std::move(group));
    }
  }
}

void Generator::BuildRings() {
  int count = options_.EffectiveRings();
  for (int i = 0; i < count; ++i) {
    Ring ring;
    ring.id = i + 1;
    if (i < 3) {
      ring.typology = static_cast<Typology>(i);
    } else {
      static const Weighted kTypologies({50, 25, 25});
      ring.typology = static_cast<Typology>(kTypologies.Sample(rng_));
    }
    rings_.push_back(std::move(ring));
  }
  for (Ring& ring : rings_) BuildRing(ring);
}

void Generator::BuildRing(Ring& r) {
  Rng& g = rng_;
  r.weak = g.Chance(0.25);
  auto add = [&](Role role) {
    RingMember m;
    m.customer = TakeCustomer();
    m.role = role;
    customers_[m.customer].role = role;
    customers_[m.customer].ring = static_cast<int16_t>(r.id - 1);
    r.members.push_back(m);
    return static_cast<int>(r.members.size() - 1);
  };
  // Countries of origin by typology (indexes into kOrigins).
  static constexpr int kSeOrigins[] = {0, 0, 0, 1, 1, 2, 5, 6};
  static constexpr int kFlOrigins[] = {2, 3, 4, 7};
  static constexpr int kDbOrigins[] = {0, 1, 2, 5, 6};

  switch (r.typology) {
    case Typology::kSe: {
      r.origin = &internal::kOrigins[g.Pick(kSeOrigins)];
      // Indicator subset: at least one of the three headline ones.
      do {
        r.indicators = 0;
        if (g.Chance(0.7)) r.indicators |= kSmallTransfersIn;
        if (g.Chance(0.55)) r.indicators |= kAdPayments;
        if (g.Chance(0.5)) r.indicators |= kRentHighRate;
      } while ((r.indicators &
                (kSmallTransfersIn | kAdPayments | kRentHighRate)) == 0);
      if (g.Chance(0.3)) r.indicators |= kRentSeveralLandlords;
      if (g.Chance(0.5)) r.indicators |= kPassThrough;
      if (g.Chance(0.35)) r.indicators |= kNightCash;
      if (g.Chance(0.35)) r.indicators |= kRemittanceAbroad;
      r.victims = static_cast<int>(g.Between(1, 4));
      for (int i = 0; i < r.victims; ++i) add(Role::kVictim);
      r.controller = add(Role::kController);
      if (r.indicators & kRentHighRate) {
        r.landlord = add(Role::kLandlord);
        if (r.victims >= 3) r.indicators |= kRentManyPayers;
      }
      // Parameters, varied per ring; weak rings stay near or under the
      // default thresholds.
      r.buyers_lo =
          static_cast<int>(r.weak ? g.Between(0, 1) : g.Between(1, 3));
      r.buyers_hi = static_cast<int>(r.weak ? g.Between(2, 3)
                                            : g.Between(r.buyers_lo + 2, 8));
      r.active_p = r.weak ? 0.3 + 0.2 * g.Uniform() : 0.6 + 0.35 * g.Uniform();
      r.night_share =
          r.weak ? 0.3 + 0.3 * g.Uniform() : 0.55 + 0.4 * g.Uniform();
      r.repeat_p = 0.1 + 0.3 * g.Uniform();
      r.amount_lo = static_cast<int>(g.Between(3, 5)) * 100;
      r.amount_hi = static_cast<int>(g.Between(10, 25)) * 100;
      r.ad_every_lo =
          static_cast<int>(r.weak ? g.Between(7, 10) : g.Between(2, 4));
      r.ad_every_hi = r.ad_every_lo + static_cast<int>(g.Between(0, 3));
      r.ad_lo = static_cast<int>(g.Between(1, 3)) * 100;
      r.ad_hi = r.ad_lo + static_cast<int>(g.Between(1, 5)) * 100;
      r.ads_by_controller = g.Chance(0.4);
      r.ad_sites[0] = static_cast<int>(g.Below(std::size(internal::kAdSites)));
      r.ad_sites[1] = static_cast<int>(g.Below(std::size(internal::kAdSites)));
      r.rent_daily = g.Chance(0.5);
      if (r.rent_daily) {
        r.rent_lo = static_cast<int>(g.Between(5, 8)) * 100;
        r.rent_hi = r.rent_lo + static_cast<int>(g.Between(0, 2)) * 100;
      } else {
        r.rent_lo =
            static_cast<int>(r.weak ? g.Between(20, 25) : g.Between(30, 60)) *
            100;
        r.rent_hi = r.rent_lo + static_cast<int>(g.Between(0, 10)) * 100;
      }
      if (r.indicators & kRentSeveralLandlords) {
        for (int64_t i = 0, k = g.Between(3, 5); i < k; ++i) {
          r.extra_landlords.push_back(g.Pick(private_landlords_));
        }
      }
      r.pass_share = r.weak ? 0.3 + 0.2 * g.Uniform() : 0.5 + 0.4 * g.Uniform();
      r.pass_lag = static_cast<int>(g.Between(1, 2));
      r.cash_every_lo = static_cast<int>(g.Between(2, 4));
      r.cash_every_hi = r.cash_every_lo + static_cast<int>(g.Between(1, 4));
      r.remit_every = static_cast<int>(g.Between(5, 12));
      r.remit_lo = static_cast<int>(g.Between(2, 5)) * 1000;
      r.remit_hi = r.remit_lo + static_cast<int>(g.Between(1, 6)) * 1000;
      std::string_view home = r.origin->country;
      r.beneficiary =
          AddParty(ForeignAccount(home), OriginName(*r.origin), home);
      for (int i = 0; i < r.victims; ++i) {
        RingMember& m = r.members[i];
        m.amount = g.Between(r.rent_lo / 100, r.rent_hi / 100) * 10000;
        m.weekday = static_cast<int>(g.Below(7));
        m.next_ad = static_cast<int>(g.Below(r.ad_every_hi + 1));
        m.next_cash = static_cast<int>(g.Below(r.cash_every_hi + 1));
        m.next_remit = static_cast<int>(g.Below(r.remit_every));
      }
      RingMember& ctl = r.members[r.controller];
      ctl.next_ad = static_cast<int>(g.Below(r.ad_every_hi + 1));
      ctl.next_cash = static_cast<int>(g.Below(r.cash_every_hi + 1));
      ctl.next_remit = static_cast<int>(g.Below(r.remit_every));
      ctl.amount = g.Between(20, 60) * 10000;  // weekly room rent, minor units
      break;
    }
    case Typology::kFl: {
      r.origin = &internal::kOrigins[g.Pick(kFlOrigins)];
      do {
        r.indicators = 0;
        if (g.Chance(0.65)) r.indicators |= kWageSkimming;
        if (g.Chance(0.5)) r.indicators |= kRecruitmentFees;
        if (g.Chance(0.5)) r.indicators |= kRentHighRate;
      } while (r.indicators == 0);
      if (g.Chance(0.25)) r.indicators |= kWagesOneAccount;
      r.employer = add(Role::kEmployer);
      r.victims = static_cast<int>(g.Between(3, 15));
      // Workers first: re-order so that member indexes 0..victims-1 are
      // workers.
      std::vector<RingMember> employer = std::move(r.members);
      r.members.clear();
      for (int i = 0; i < r.victims; ++i) add(Role::kWorker);
      r.members.push_back(employer[0]);
      r.employer = static_cast<int>(r.members.size() - 1);
      if (r.indicators & (kWageSkimming | kWagesOneAccount)) {
        r.recruiter = add(Role::kRecruiter);
      }
      if (r.indicators & kRecruitmentFees) {
        r.agency = (r.recruiter >= 0 && g.Chance(0.4)) ? r.recruiter
                                                       : add(Role::kAgency);
      }
      if (r.indicators & kRentHighRate) {
        r.landlord = add(Role::kLandlord);
        if (r.victims >= 3) r.indicators |= kRentManyPayers;
      }
      r.fortnightly = g.Chance(0.4);
      r.wage_weekday = 4;
      r.skim_lo = static_cast<int>(g.Between(30, 45));
      r.skim_hi = r.skim_lo + static_cast<int>(g.Between(0, 15));
      r.rent_lo =
          static_cast<int>(r.weak ? g.Between(15, 20) : g.Between(20, 35)) *
          100;
      r.rent_hi = r.rent_lo + static_cast<int>(g.Between(0, 5)) * 100;
      int64_t wage_lo = g.Between(8, 14) * 1000;
      for (int i = 0; i < r.victims; ++i) {
        RingMember& m = r.members[i];
        m.amount = (wage_lo + g.Between(0, 4000)) * 100;  // a month
        m.weekday = static_cast<int>(g.Below(7));
        m.hire_day =
            (r.indicators & kRecruitmentFees)
                ? static_cast<int>(g.Below(std::max(1, options_.days / 3)))
                : 0;
        m.wage_to_recruiter = (r.indicators & kWagesOneAccount) && i < 3;
        m.total =
            g.Between(r.rent_lo / 100, r.rent_hi / 100) * 10000;  // weekly rent
      }
      break;
    }
    case Typology::kDb: {
      r.origin = &internal::kOrigins[g.Pick(kDbOrigins)];
      do {
        r.indicators = 0;
        if (g.Chance(0.7)) r.indicators |= kFixedInstalments;
        if (g.Chance(0.6)) r.indicators |= kRemittanceDebt;
      } while (r.indicators == 0);
      if (g.Chance(0.3)) r.indicators |= kRentHighRate;
      r.victims = static_cast<int>(g.Between(1, 3));
      for (int i = 0; i < r.victims; ++i) add(Role::kVictim);
      r.controller = add(Role::kController);
      if ((r.indicators & kRentHighRate) && g.Chance(0.5)) {
        r.landlord = add(Role::kLandlord);
      }
      r.instalment_every = g.Chance(0.6) ? 7 : 14;
      r.remit_every = g.Chance(0.5) ? 7 : 14;
      r.remit_currency = g.Chance(0.4) ? kEur : kDkk;
      r.debt = r.remit_currency == kEur ? 30000 * 100 : 250000 * 100;
      r.remit_lo = r.remit_currency == kEur ? 300 : 2000;
      r.remit_hi = r.remit_currency == kEur ? 1500 : 10000;
      r.rent_daily = g.Chance(0.3);
      r.rent_lo =
          r.rent_daily ? 500 : static_cast<int>(g.Between(20, 40)) * 100;
      r.rent_hi = r.rent_daily ? 1000 : r.rent_lo + 500;
      std::string_view home = r.origin->country;
      r.beneficiary =
          AddParty(ForeignAccount(home), OriginName(*r.origin), home);
      for (int i = 0; i < r.victims; ++i) {
        RingMember& m = r.members[i];
        m.amount = g.Between(r.weak ? 3 : 5, r.weak ? 8 : 40) * 100 *
                   100;  // instalment
        m.weekday = static_cast<int>(g.Below(7));
        m.next_remit = static_cast<int>(g.Below(r.remit_every));
        m.due_day = static_cast<int>(g.Below(r.instalment_every));
        m.total = g.Between(0, 150) * 1000 * 100;  // already paid towards debt
        if (r.remit_currency == kEur) m.total /= 8;
        m.pending =
            g.Between(r.rent_lo / 100, r.rent_hi / 100) * 10000;  // rent
      }
      break;
    }
  }
  labelled_ += static_cast<int64_t>(r.members.size());
}

// ---------------------------------------------------------------------------
// Simulation.

DayInfo Generator::MakeDay(int index) const {
  DayInfo d;
  d.index = index;
  d.days = *internal::ParseDate(options_.start_date) + index;
  d.date = internal::CivilFromDays(d.days);
  d.weekday = internal::Weekday(d.days);
  d.bank_day = internal::IsBankDay(d.days);
  d.month = internal::DanishMonth(d.date.month);
  d.next_month = internal::DanishMonth(d.date.month % 12 + 1);
  if (d.bank_day) {
    bool later = false;
    for (int64_t x = d.days + 1;
         internal::CivilFromDays(x).month == d.date.month; ++x) {
      if (internal::IsBankDay(x)) {
        later = true;
        break;
      }
    }
    d.last_bank_day_of_month = !later;
    // Due dates settled today: since the previous bank day (same month).
    int64_t prev = d.days - 1;
    while (!internal::IsBankDay(prev)) --prev;
    CivilDate p = internal::CivilFromDays(prev);
    d.nominal_lo = p.month == d.date.month ? p.day + 1 : 1;
    d.nominal_hi = d.date.day;
    if (d.last_bank_day_of_month) {
      d.nominal_hi = internal::DaysInMonth(d.date.year, d.date.month);
    }
  }
  d.utc_base = internal::LocalToUtc(d.days, 0);
  d.dst_change = internal::LocalToUtc(d.days, 86399) != d.utc_base + 86399;
  return d;
}

int64_t Generator::At(int seconds_of_day) const {
  if (!day_.dst_change) return day_.utc_base + seconds_of_day;
  return internal::LocalToUtc(day_.days, seconds_of_day);
}

int64_t Generator::AtHour(int hour) {
  return At(hour % 24 * 3600 + static_cast<int>(rng_.Below(3600)));
}

int64_t Generator::AtHours(const Weighted& hours) {
  return AtHour(static_cast<int>(hours.Sample(rng_)));
}

int64_t Generator::AtNight() {
  return AtHour(20 + static_cast<int>(NightHours().Sample(rng_)));
}

void Generator::Emit(int64_t ts, int32_t debtor, int32_t creditor,
                     int64_t minor, Channel channel, std::string_view ref,
                     int mcc, Currency currency) {
  assert(debtor >= 0 && creditor >= 0 && "payment without a party");
  if (minor <= 0) return;
  Event e;
  e.ts = ts;
  e.amount = minor;
  e.debtor = debtor;
  e.creditor = creditor;
  e.ref_off = static_cast<uint32_t>(refs_.size());
  if (ref.find_first_of(",\"\r\n") == std::string_view::npos) {
    refs_.append(ref);
  } else {
    refs_.append(CsvField(ref));
  }
  e.ref_len = static_cast<uint16_t>(refs_.size() - e.ref_off);
  e.mcc = static_cast<uint16_t>(mcc);
  e.channel = channel;
  e.currency = currency;
  events_.push_back(e);
}

void Generator::Card(int32_t payer, int category, int64_t ts, bool eur) {
  const internal::MerchantCategory& cat = internal::kCategories[category];
  int64_t kroner = rng_.LowSkewed(cat.lo, cat.hi);
  int64_t minor =
      kroner * 100 + (category == 0 || category == 3 || category == 11
                          ? static_cast<int64_t>(rng_.Below(100))
                          : 0);
  if (eur) {
    int32_t creditor = category == internal::kCatTaxi
                           ? rng_.Pick(foreign_taxis_)
                           : rng_.Pick(foreign_hotels_);
    Emit(ts, payer, creditor, minor * 2 / 15, kCard, "", cat.mcc, kEur);
    return;
  }
  Emit(ts, payer, Merchant(category), minor, kCard, "", cat.mcc);
}

void Generator::CustomerDay(int ci) {
  Customer& c = customers_[ci];
  NormalDay(c);
  if (c.trap != Trap::kNone) TrapDay(c);
}

void Generator::NormalDay(Customer& c) {
  const DayInfo& d = day_;
  Rng& g = rng_;
  // Monthly income on the last bank day of the month, booked early morning.
  if (d.last_bank_day_of_month && c.employer != kNoParty && c.salary > 0) {
    std::string ref = c.kind == Kind::kStudent
                          ? absl::StrCat("SU ", Av(d.month))
                      : c.kind == Kind::kPensioner
                          ? absl::StrCat("Folkepension ", Av(d.month))
                          : absl::StrCat("Løn ", Av(d.month));
    Emit(At(static_cast<int>(g.Between(3 * 3600, 6 * 3600))), c.employer,
         c.party, c.salary, kTransfer, ref);
  }
  // Rent (or mortgage, quarterly) on the first days of the month.
  if (c.landlord != kNoParty && c.rent_dom >= d.nominal_lo &&
      c.rent_dom <= d.nominal_hi) {
    if (c.homeowner) {
      if (d.date.month % 3 == 1) {
        Emit(At(static_cast<int>(g.Between(2 * 3600, 6 * 3600))), c.party,
             c.landlord, c.rent * 3, kDirectDebit, "Terminsydelse");
      }
    } else if (c.rent_direct_debit) {
      Emit(At(static_cast<int>(g.Between(2 * 3600, 6 * 3600))), c.party,
           c.landlord, c.rent, kDirectDebit,
           absl::StrCat("Husleje ", Av(d.month)));
    } else {
      Emit(AtHours(DayHours()), c.party, c.landlord, c.rent, kTransfer,
           c.kind == Kind::kBusiness
               ? absl::StrCat("Husleje erhverv ", Av(d.month))
               : absl::StrCat("Husleje ", Av(d.month)));
    }
  }
  // Utilities and subscriptions: each on its own due day, fixed amount.
  if (c.utilities != 0 && d.nominal_hi >= d.nominal_lo) {
    for (int u = 0; u < 8; ++u) {
      if (!(c.utilities & (1u << u))) continue;
      int provider = u + (c.key >> (8 + u) & 1) * 5;
      if (provider >= kUtilityN) provider = u;
      uint64_t h = Mix(c.key, 100 + provider);
      int dom = 2 + static_cast<int>(h % 8);
      if (dom < d.nominal_lo || dom > d.nominal_hi) continue;
      const Utility& util = kUtilities[provider];
      int64_t amount =
          (util.lo + static_cast<int64_t>((h >> 8) % (util.hi - util.lo + 1))) *
          100;
      if (util.channel == kCard) {
        Emit(AtHours(DayHours()), c.party, utilities_[provider], amount, kCard,
             "", 4899);
      } else {
        Emit(At(static_cast<int>(g.Between(2 * 3600, 6 * 3600))), c.party,
             utilities_[provider], amount, kDirectDebit,
             absl::StrCat(Av(util.name), " ", Av(d.month)));
      }
    }
  }
  // Everyday card purchases.
  static const Weighted kCardCounts[3] = {Weighted({50, 30, 15, 5, 0}),
                                          Weighted({20, 30, 27, 15, 8}),
                                          Weighted({8, 20, 30, 25, 17})};
  static const Weighted kCategory([] {
    std::vector<uint32_t> w;
    for (const auto& cat : internal::kCategories) w.push_back(cat.weight);
    return w;
  }());
  int purchases = static_cast<int>(kCardCounts[c.card_level].Sample(g));
  if (c.kind == Kind::kBusiness) purchases = purchases > 1 ? 1 : purchases;
  for (int i = 0; i < purchases; ++i) {
    Card(c.party, static_cast<int>(kCategory.Sample(g)), AtHours(CardHours()));
  }
  if (g.Chance(0.012)) {
    Emit(AtHours(SocialHours()), c.party, g.Pick(foreign_shops_),
         g.LowSkewed(8, 180) * 100 + static_cast<int64_t>(g.Below(100)), kCard,
         "", 5691, kEur);
  }
  if (c.kind == Kind::kBusiness) {
    // Client income and supplier payments.
    if (d.bank_day && g.Chance(0.35)) {
      Emit(AtHours(DayHours()), g.Pick(client_companies_), c.party,
           g.LowSkewed(2000, 60000) * 100, kTransfer,
           absl::StrCat("Faktura ", g.Between(1000, 99999)));
    }
    if (d.bank_day && g.Chance(0.25)) {
      Emit(AtHours(DayHours()), c.party, g.Pick(client_companies_),
           g.LowSkewed(500, 30000) * 100 + static_cast<int64_t>(g.Below(100)),
           kTransfer, absl::StrCat("Fakt. ", g.Between(10000, 999999)));
    }
    return;
  }
  // MobilePay with friends.
  if (c.friends_n > 0 && g.Below(1000) < c.mobile_pm) {
    int32_t to = friends_[c.friends_begin + g.Below(c.friends_n)];
    if (to != c.party) {
      int64_t kroner = g.LowSkewed(20, 600);
      if (kroner > 50) kroner -= kroner % 5;
      Emit(AtHours(SocialHours()), c.party, to, kroner * 100, kMobile,
           g.Pick(internal::kMobilePayRefs));
    }
  }
  // ATM withdrawals, now and then.
  if (g.Chance(c.kind == Kind::kPensioner ? 0.05 : 0.025)) {
    static constexpr int kWithdrawals[] = {200,  300,  500, 500,
                                           1000, 1000, 2000};
    Emit(AtHours(CardHours()), c.party, g.Pick(atms_),
         g.Pick(kWithdrawals) * 100, kCash, "");
  }
}

void Generator::TrapDay(Customer& c) {
  const DayInfo& d = day_;
  Rng& g = rng_;
  const std::vector<int32_t>* group =
      c.group >= 0 ? &groups_[c.group] : nullptr;
  switch (c.trap) {
    case Trap::kLandlord:
      if (group != nullptr && d.nominal_lo <= 1 && d.nominal_hi >= 1) {
        std::string ref = absl::StrCat("Husleje ", Av(d.month));
        for (size_t i = 0; i + 1 < group->size(); i += 2) {
          bool dd = ((*group)[i + 1] & 1) != 0;
          Emit(dd ? At(static_cast<int>(g.Between(2 * 3600, 6 * 3600)))
                  : AtHours(DayHours()),
               (*group)[i], c.party,
               static_cast<int64_t>((*group)[i + 1]) * 100,
               dd ? kDirectDebit : kTransfer, ref);
        }
      }
      break;
    case Trap::kClubTreasurer: {
      // Season start: every member pays the same fee within 1-2 afternoons;
      // again half a year later.
      int since = d.index - c.next_day;
      if (group == nullptr || since < 0 || since % 182 > 1) break;
      static constexpr std::string_view kRefs[] = {
          "kontingent", "Kontingent forår",    "kontingent fodbold",
          "medlemskab", "håndbold kontingent", "sæsonkontingent"};
      std::string_view ref = kRefs[c.key % std::size(kRefs)];
      size_t half = group->size() * (2 + c.key % 3) / 4;
      size_t lo = since % 182 == 0 ? 0 : half,
             hi = since % 182 == 0 ? half : group->size();
      for (size_t i = lo; i < hi; ++i) {
        Emit(AtHour(static_cast<int>(g.Between(13, 20))), (*group)[i], c.party,
             static_cast<int64_t>(c.aux) * 100, kMobile,
             g.Chance(0.7) ? ref : std::string_view(""));
      }
      break;
    }
    case Trap::kStudent:
      if (group != nullptr && g.Chance(0.55)) {
        for (int64_t i = 0, k = g.Between(1, 2); i < k; ++i) {
          int64_t kroner = g.LowSkewed(1, 20) * 50;
          Emit(AtHours(DayHours()), g.Pick(*group), c.party, kroner * 100,
               kMobile, g.Pick(internal::kFamilyRefs));
        }
      }
      break;
    case Trap::kShopAds:
      if (d.nominal_lo <= 5 && d.nominal_hi >= 5) {
        Emit(AtHours(DayHours()), c.party, google_ads_,
             (2000 + static_cast<int64_t>(Mix(c.key, d.date.month) % 8001)) *
                 100,
             kCard, "", 7311);
        if (c.key % 3 == 0) {
          Emit(AtHours(DayHours()), c.party, eb_ads_,
               (2000 + static_cast<int64_t>(c.key % 6001)) * 100,
               c.key % 2 ? kCard : kTransfer, "Annonce", c.key % 2 ? 7311 : 0);
        }
      }
      if (c.key % 4 == 1 && d.weekday == 0) {
        Emit(AtHours(DayHours()), c.party, meta_ads_, g.Between(2, 15) * 10000,
             kCard, "", 7311);
      } else if (c.key % 4 == 2 && d.nominal_lo <= 15 && d.nominal_hi >= 15) {
        Emit(AtHours(DayHours()), c.party, meta_ads_,
             g.Between(20, 100) * 10000, kCard, "", 7311);
      }
      break;
    case Trap::kMigrantWorker: {
      // Sends part of the pay home on the 2nd-6th of the month.
      int dom = c.next_day + 1;
      if (group == nullptr || dom < d.nominal_lo || dom > d.nominal_hi) break;
      Emit(AtHours(DayHours()), c.party, (*group)[0],
           (2000 + static_cast<int64_t>(Mix(c.key, d.date.month) % 3001)) * 100,
           kRemittance, c.key % 2 ? "family support" : "dla rodziny");
      break;
    }
    case Trap::kBusinessTraveller: {
      // Trips of 1-4 days every 1-3 weeks; next_day = start, aux = length.
      if (d.index == c.next_day) {
        c.aux =
            static_cast<int32_t>(g.Between(1, 4)) | (g.Chance(0.4) ? 0x100 : 0);
        bool abroad = c.aux & 0x100;
        Emit(AtHour(static_cast<int>(g.Between(6, 9))), c.party,
             Merchant(internal::kCatAirline),
             (abroad ? g.Between(1500, 6000) : g.Between(900, 2500)) * 100,
             kCard, "", 4511);
      }
      int in_trip = d.index - c.next_day;
      int length = c.aux & 0xff;
      if (c.next_day >= 0 && in_trip >= 0 && in_trip < length) {
        bool abroad = c.aux & 0x100;
        for (int64_t i = 0, k = g.Between(1, 3); i < k; ++i) {
          Card(c.party, internal::kCatTaxi, AtHours(SocialHours()), abroad);
        }
        if (!abroad && g.Chance(0.3)) {
          Card(c.party, internal::kCatRail, AtHours(DayHours()));
        }
        if (in_trip == length - 1) {
          const auto& hotel = internal::kCategories[internal::kCatHotel];
          int nights = std::max(1, length - 1);
          int64_t rate = g.Between(hotel.lo, hotel.hi) * 100;
          if (abroad) {
            Emit(AtHour(8), c.party, g.Pick(foreign_hotels_),
                 rate * nights * 2 / 15, kCard, "", 7011, kEur);
          } else {
            Emit(AtHour(8), c.party, Merchant(internal::kCatHotel),
                 rate * nights, kCard, "", 7011);
          }
          c.next_day = d.index + static_cast<int32_t>(g.Between(5, 20));
        }
      }
      break;
    }
    case Trap::kMassageSalon:
      if (d.weekday < 6 && !internal::IsDanishHoliday(d.days)) {
        for (int64_t i = 0, k = g.Between(4, 16); i < k; ++i) {
          int32_t payer = g.Chance(0.2)
                              ? customers_[g.Below(customers_.size())].party
                              : ExternalPerson();
          Emit(AtHour(static_cast<int>(g.Between(10, 19))), payer, c.party,
               g.Between(7, 18) * 5000, kCard, "", 7297);
        }
      }
      [[fallthrough]];
    case Trap::kEmployer:
      if (group != nullptr && d.last_bank_day_of_month) {
        int64_t payroll = 0;
        std::string ref = absl::StrCat("Løn ", Av(d.month));
        for (size_t i = 0; i + 1 < group->size(); i += 2) {
          int64_t amount = static_cast<int64_t>((*group)[i + 1]) * 100;
          payroll += amount;
          Emit(At(static_cast<int>(g.Between(3 * 3600, 6 * 3600))), c.party,
               (*group)[i], amount, kTransfer, ref);
        }
        // Pension the same day; withholding tax on the 10th (below).
        Emit(AtHours(DayHours()), c.party, pension_fund_, payroll / 10,
             kTransfer, absl::StrCat("Pension ", Av(d.month)));
        c.aux = static_cast<int32_t>(payroll / 100);
      }
      if (c.aux > 0 && d.nominal_lo <= 10 && d.nominal_hi >= 10) {
        Emit(AtHours(DayHours()), c.party, skat_,
             static_cast<int64_t>(c.aux) * 100 * 38 / 100, kTransfer,
             "A-skat og AM-bidrag");
      }
      if (c.trap == Trap::kMassageSalon && d.nominal_lo <= 5 &&
          d.nominal_hi >= 5) {
        Emit(AtHours(DayHours()), c.party, google_ads_,
             g.Between(5, 30) * 10000, kCard, "", 7311);
      }
      break;
    case Trap::kMover:
      if (group != nullptr && d.index == c.next_day) {
        // Deposit and next month's rent to the new landlord, the moving van.
        int32_t next = (*group)[0];
        Emit(AtHours(DayHours()), c.party, next, c.rent * 3, kTransfer,
             "Depositum");
        Emit(AtHours(DayHours()), c.party, next, c.rent, kTransfer,
             absl::StrCat("Husleje ", Av(d.next_month)));
        Card(c.party, internal::kCatMoving, AtHours(DayHours()));
        c.landlord = next;
      }
      break;
    case Trap::kReseller:
      if (g.Chance(0.5)) {
        static constexpr std::string_view kRefs[] = {
            "DBA", "sofa", "cykel", "barnevogn", "lampe",
            "tøj", "reol", "køb",   "",          "Marketplace"};
        for (int64_t i = 0, k = g.Between(1, 3); i < k; ++i) {
          int32_t payer = g.Chance(0.3)
                              ? customers_[g.Below(customers_.size())].party
                              : ExternalPerson();
          Emit(AtHour(static_cast<int>(g.Between(9, 21))), payer, c.party,
               g.LowSkewed(4, 60) * 2500, kMobile, g.Pick(kRefs));
        }
      }
      break;
    case Trap::kTaxiDriver:
      if (d.weekday != c.aux && d.weekday != (c.aux + 3) % 7) {
        for (int64_t i = 0, k = g.Between(4, 14); i < k; ++i) {
          int32_t payer = g.Chance(0.2)
                              ? customers_[g.Below(customers_.size())].party
                              : ExternalPerson();
          Emit(AtNight(), payer, c.party, g.LowSkewed(80, 450) * 100, kMobile,
               g.Chance(0.6) ? "taxa" : "");
        }
      }
      if (d.weekday == 4 && d.bank_day) {
        Emit(AtHours(DayHours()), taxi_central_, c.party,
             g.Between(6000, 14000) * 100, kTransfer, "Afregning kørsel");
      }
      break;
    default:
      break;
  }
}

void Generator::RingDay(Ring& r) {
  switch (r.typology) {
    case Typology::kSe:
      SeDay(r);
      break;
    case Typology::kFl:
      FlDay(r);
      break;
    case Typology::kDb:
      DbDay(r);
      break;
  }
}

void Generator::SeDay(Ring& r) {
  const DayInfo& d = day_;
  Rng& g = rng_;
  auto party = [&](int member) {
    return customers_[r.members[member].customer].party;
  };
  const int32_t controller = party(r.controller);
  for (int v = 0; v < r.victims; ++v) {
    RingMember& m = r.members[v];
    const int32_t victim = party(v);
    // Takings: buyers pay by MobilePay (or in cash, deposited later).
    if (g.Chance(r.active_p)) {
      int64_t buyers = g.Between(r.buyers_lo, r.buyers_hi);
      for (int64_t i = 0; i < buyers; ++i) {
        int64_t kroner = g.LowSkewed(r.amount_lo, r.amount_hi);
        kroner -= kroner % 50;
        if (r.indicators & kSmallTransfersIn) {
          int32_t buyer = g.Chance(r.repeat_p) ? g.Pick(r.buyer_pool)
                          : g.Chance(0.1)
                              ? customers_[g.Below(customers_.size())].party
                          : g.Chance(0.9) ? g.Pick(external_men_)
                                          : ExternalPerson();
          int64_t ts = g.Chance(r.night_share)
                           ? AtNight()
                           : AtHour(static_cast<int>(g.Between(11, 19)));
          Emit(ts, buyer, victim, kroner * 100, kMobile,
               g.Chance(0.8) ? "" : "tak");
        }
        m.pending += kroner * 100;
      }
    }
    if (!(r.indicators & kSmallTransfersIn) && m.pending > 0 &&
        g.Chance(0.35)) {
      int64_t deposit = m.pending - m.pending % 10000;
      Emit(AtHour(static_cast<int>(g.Between(10, 17))), g.Pick(deposit_points_),
           victim, deposit, kCash, "");
    }
    // Forward most takings to the controller within 24-48 hours.
    if ((r.indicators & kPassThrough) && m.pending > 0 &&
        (d.index - m.due_day) >= r.pass_lag) {
      int64_t amount =
          static_cast<int64_t>(static_cast<double>(m.pending) * r.pass_share);
      amount -= amount % 10000;
      Emit(AtHour(static_cast<int>(g.Between(9, 17))), victim, controller,
           amount, g.Chance(0.7) ? kMobile : kTransfer, "");
      m.pending = 0;
      m.due_day = d.index;
    } else if (!(r.indicators & kPassThrough) && m.pending > 500000) {
      m.pending = 0;  // spent in cash, kept, or handed over unseen
    }
    // Ads paid by the victim.
    if ((r.indicators & kAdPayments) && !r.ads_by_controller &&
        d.index >= m.next_ad) {
      int site = r.ad_sites[g.Below(2)];
      bool card = g.Chance(0.6);
      Emit(AtHours(SocialHours()), victim, ad_sites_[site],
           g.Between(r.ad_lo / 50, r.ad_hi / 50) * 5000,
           card ? kCard : kTransfer, card ? "" : "annonce", card ? 7311 : 0);
      m.next_ad =
          d.index + static_cast<int>(g.Between(r.ad_every_lo, r.ad_every_hi));
    }
    // Rent to the ring landlord: daily, or weekly on the member's weekday.
    if ((r.indicators & kRentHighRate) && r.landlord >= 0 &&
        (r.rent_daily || d.weekday == m.weekday)) {
      Emit(AtHours(DayHours()), victim, party(r.landlord), m.amount,
           g.Chance(0.6) ? kMobile : kTransfer,
           g.Pick(internal::kRentRefsRing));
    }
    // Night cash and remittances by the victim.
    if ((r.indicators & kNightCash) && d.index >= m.next_cash && v % 2 == 0) {
      Emit(AtNight(), victim, g.Pick(atms_), g.Between(10, 60) * 10000, kCash,
           "");
      m.next_cash = d.index + static_cast<int>(
                                  g.Between(r.cash_every_lo, r.cash_every_hi));
    }
    if ((r.indicators & kRemittanceAbroad) && !(r.indicators & kPassThrough) &&
        d.index >= m.next_remit) {
      Emit(AtHours(DayHours()), victim, r.beneficiary,
           g.Between(r.remit_lo / 100, r.remit_hi / 100) * 10000, kRemittance,
           "");
      m.next_remit = d.index + r.remit_every;
    }
  }
  RingMember& ctl = r.members[r.controller];
  if ((r.indicators & kAdPayments) && r.ads_by_controller &&
      d.index >= ctl.next_ad) {
    // The controller buys ads for every victim, often on the same day.
    for (int v = 0; v < r.victims; ++v) {
      int site = r.ad_sites[g.Below(2)];
      bool card = g.Chance(0.7);
      Emit(AtHours(SocialHours()), controller, ad_sites_[site],
           g.Between(r.ad_lo / 50, r.ad_hi / 50) * 5000,
           card ? kCard : kTransfer, card ? "" : "annonce", card ? 7311 : 0);
    }
    ctl.next_ad =
        d.index + static_cast<int>(g.Between(r.ad_every_lo, r.ad_every_hi));
  }
  if (r.indicators & kRentSeveralLandlords) {
    // The controller rents rooms from several (unwitting) landlords, weekly.
    for (size_t i = 0; i < r.extra_landlords.size(); ++i) {
      if ((d.index + static_cast<int>(i) * 2) % 7 != 0) continue;
      Emit(AtHours(DayHours()), controller, r.extra_landlords[i], ctl.amount,
           kTransfer, g.Pick(internal::kRentRefsRing));
    }
  }
  if ((r.indicators & kNightCash) && d.index >= ctl.next_cash) {
    Emit(AtNight(), controller, g.Pick(atms_), g.Between(20, 80) * 10000, kCash,
         "");
    ctl.next_cash =
        d.index + static_cast<int>(g.Between(r.cash_every_lo, r.cash_every_hi));
  }
  if ((r.indicators & kRemittanceAbroad) && (r.indicators & kPassThrough) &&
      d.index >= ctl.next_remit) {
    Emit(AtHours(DayHours()), controller, r.beneficiary,
         g.Between(r.remit_lo / 100, r.remit_hi / 100) * 10000, kRemittance,
         "");
    ctl.next_remit = d.index + r.remit_every;
  }
}

void Generator::FlDay(Ring& r) {
  const DayInfo& d = day_;
  Rng& g = rng_;
  auto party = [&](int member) {
    return customers_[r.members[member].customer].party;
  };
  const int32_t employer = party(r.employer);
  bool payday = r.fortnightly ? (d.weekday == r.wage_weekday && d.bank_day &&
                                 (d.days / 7) % 2 == 0)
                              : d.last_bank_day_of_month;
  for (int w = 0; w < r.victims; ++w) {
    RingMember& m = r.members[w];
    const int32_t worker = party(w);
    if (d.index < m.hire_day) continue;
    if (d.index == m.hire_day && (r.indicators & kRecruitmentFees)) {
      static constexpr std::string_view kRefs[] = {
          "fee",   "jobformidling",     "rekruttering",
          "gebyr", "arbejdstilladelse", ""};
      bool eur = g.Chance(0.3);
      Emit(AtHours(DayHours()), worker, party(r.agency),
           eur ? g.Between(7, 30) * 10000 : g.Between(5, 25) * 100000,
           g.Chance(0.7) ? kTransfer : kMobile, g.Pick(kRefs), 0,
           eur ? kEur : kDkk);
    }
    if (payday) {
      int64_t wage = r.fortnightly ? m.amount * 12 / 26 : m.amount;
      wage -= wage % 100;
      bool to_recruiter = m.wage_to_recruiter && r.recruiter >= 0;
      Emit(At(static_cast<int>(g.Between(4 * 3600, 8 * 3600))), employer,
           to_recruiter ? party(r.recruiter) : worker, wage, kTransfer,
           absl::StrCat("Løn ", Av(d.month)));
      if (!to_recruiter && (r.indicators & kWageSkimming)) {
        m.pending = wage * g.Between(r.skim_lo, r.skim_hi) / 100;
        m.pending -= m.pending % 10000;
        m.due_day = d.index + static_cast<int>(g.Between(1, 3));
      }
    }
    if (m.pending > 0 && d.index >= m.due_day && r.recruiter >= 0) {
      static constexpr std::string_view kRefs[] = {
          "", "transport", "gæld", "afdrag", "bolig", "tak"};
      Emit(AtHours(SocialHours()), worker, party(r.recruiter), m.pending,
           g.Chance(0.5) ? kMobile : kTransfer, g.Pick(kRefs));
      m.pending = 0;
    }
    if ((r.indicators & kRentHighRate) && r.landlord >= 0 &&
        d.weekday == m.weekday) {
      Emit(AtHours(DayHours()), worker, party(r.landlord), m.total,
           g.Chance(0.5) ? kMobile : kTransfer,
           g.Pick(internal::kRentRefsRing));
    }
  }
  // The front business: client income, building supplies, fuel.
  if (d.bank_day && g.Chance(0.4)) {
    Emit(AtHours(DayHours()), g.Pick(client_companies_), employer,
         g.LowSkewed(10000, 150000) * 100, kTransfer,
         absl::StrCat("Faktura ", g.Between(1000, 9999)));
  }
  if (g.Chance(0.3)) Card(employer, 9, AtHours(DayHours()));
}

void Generator::DbDay(Ring& r) {
  const DayInfo& d = day_;
  Rng& g = rng_;
  auto party = [&](int member) {
    return customers_[r.members[member].customer].party;
  };
  const int32_t controller = party(r.controller);
  for (int v = 0; v < r.victims; ++v) {
    RingMember& m = r.members[v];
    const int32_t victim = party(v);
    // Income: weekly pay from a cleaning or restaurant job, or cash.
    if (d.weekday == 4 && d.bank_day) {
      if (v % 2 == 0) {
        Emit(At(static_cast<int>(g.Between(4 * 3600, 8 * 3600))),
             external_employers_[(r.id * 7 + v) % external_employers_.size()],
             victim, g.Between(30, 55) * 10000, kTransfer, "Ugeløn");
      } else {
        Emit(AtHours(DayHours()), g.Pick(deposit_points_), victim,
             g.Between(25, 50) * 10000, kCash, "");
      }
    }
    if ((r.indicators & kFixedInstalments) && d.index >= m.due_day) {
      static constexpr std::string_view kRefs[] = {"", "afdrag", "rate", "gæld",
                                                   "uge"};
      Emit(AtHours(SocialHours()), victim, controller, m.amount,
           r.id % 2 ? kMobile : kTransfer, kRefs[r.id % 5]);
      m.due_day = d.index + r.instalment_every;
    }
    if ((r.indicators & kRemittanceDebt) && d.index >= m.next_remit &&
        m.total < r.debt) {
      int64_t amount = g.Between(r.remit_lo / 100, r.remit_hi / 100) * 10000;
      amount = std::min(amount, r.debt - m.total);
      Emit(AtHours(DayHours()), victim, r.beneficiary, amount, kRemittance, "",
           0, r.remit_currency);
      m.total += amount;
      m.next_remit = d.index + r.remit_every;
    }
    if (r.indicators & kRentHighRate) {
      if (r.rent_daily || d.weekday == m.weekday) {
        Emit(AtHours(DayHours()), victim,
             r.landlord >= 0 ? party(r.landlord) : controller, m.pending,
             g.Chance(0.6) ? kMobile : kTransfer,
             g.Pick(internal::kRentRefsRing));
      }
    }
  }
}

// Writes the day's events in (timestamp, generation order) order.
absl::Status Generator::FlushDay(CsvWriter& out) {
  if (events_.empty()) return absl::OkStatus();
  int64_t lo = events_[0].ts, hi = lo;
  for (const Event& e : events_) {
    lo = std::min(lo, e.ts);
    hi = std::max(hi, e.ts);
  }
  // Counting sort: stable, linear.
  counts_.assign(static_cast<size_t>(hi - lo + 2), 0);
  for (const Event& e : events_) ++counts_[e.ts - lo + 1];
  for (size_t i = 1; i < counts_.size(); ++i) counts_[i] += counts_[i - 1];
  order_.resize(events_.size());
  for (uint32_t i = 0; i < events_.size(); ++i) {
    order_[counts_[events_[i].ts - lo]++] = i;
  }
  for (uint32_t idx : order_) {
    const Event& e = events_[idx];
    // Never earlier than the previous row (days do not overlap, so this is a
    // safety net only).
    int64_t ts = std::max(e.ts, last_ts_);
    last_ts_ = ts;
    if (stats_.payments == 0) stats_.first_timestamp = ts;
    stats_.last_timestamp = ts;
    ++stats_.payments;

    char* p = out.Reserve(96);
    char* start = p;
    // id
    *p++ = 'P';
    int64_t id = next_id_++;
    for (int i = 11; i >= 0; --i) {
      p[i] = static_cast<char>('0' + id % 10);
      id /= 10;
    }
    p += 12;
    *p++ = ',';
    // timestamp
    int64_t day = ts >= 0 ? ts / 86400 : (ts - 86399) / 86400;
    if (day != date_prefix_day_) {
      CivilDate c = internal::CivilFromDays(day);
      char buf[16];
      std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT", c.year, c.month,
                    c.day);
      date_prefix_ = buf;
      date_prefix_day_ = day;
    }
    std::memcpy(p, date_prefix_.data(), 11);
    p += 11;
    int secs = static_cast<int>(ts - day * 86400);
    int hh = secs / 3600, mm = secs / 60 % 60, ss = secs % 60;
    p[0] = static_cast<char>('0' + hh / 10);
    p[1] = static_cast<char>('0' + hh % 10);
    p[2] = ':';
    p[3] = static_cast<char>('0' + mm / 10);
    p[4] = static_cast<char>('0' + mm % 10);
    p[5] = ':';
    p[6] = static_cast<char>('0' + ss / 10);
    p[7] = static_cast<char>('0' + ss % 10);
    p[8] = 'Z';
    p[9] = ',';
    p += 10;
    out.Commit(p - start);
    out.Raw(parties_[e.debtor]);
    out.Raw(',');
    out.Raw(parties_[e.creditor]);
    p = start = out.Reserve(96);
    *p++ = ',';
    auto [end, ec] = std::to_chars(p, p + 24, e.amount / 100);
    p = end;
    *p++ = '.';
    *p++ = static_cast<char>('0' + e.amount / 10 % 10);
    *p++ = static_cast<char>('0' + e.amount % 10);
    std::memcpy(p, e.currency == kEur ? ",EUR," : ",DKK,", 5);
    p += 5;
    std::string_view channel = kChannelNames[e.channel];
    std::memcpy(p, channel.data(), channel.size());
    p += channel.size();
    *p++ = ',';
    if (e.mcc != 0) {
      p = std::to_chars(p, p + 8, e.mcc).ptr;
    }
    *p++ = ',';
    out.Commit(p - start);
    out.Raw(std::string_view(refs_).substr(e.ref_off, e.ref_len));
    out.Raw('\n');
  }
  events_.clear();
  refs_.clear();
  return absl::OkStatus();
}

absl::Status Generator::WriteSideFiles(const std::string& dir) {
  TXFLAG_ASSIGN_OR_RETURN(auto labels,
                          CsvWriter::Open(dir + "/labels.csv", 1 << 16));
  TXFLAG_ASSIGN_OR_RETURN(auto rings,
                          CsvWriter::Open(dir + "/rings.csv", 1 << 16));
  labels->Raw("account,typology\n");
  rings->Raw("ring,typology,account,role,indicators\n");
  for (const Ring& r : rings_) {
    std::string indicators;
    for (size_t i = 0; i < std::size(kIndicatorNames); ++i) {
      if (r.indicators & (1u << i)) {
        if (!indicators.empty()) indicators.push_back(';');
        indicators += kIndicatorNames[i];
      }
    }
    std::string_view typology = kTypologyNames[static_cast<int>(r.typology)];
    char ring_id[16];
    std::snprintf(ring_id, sizeof(ring_id), "R%04d", r.id);
    for (const RingMember& m : r.members) {
      std::string_view account = Account(customers_[m.customer].party);
      labels->Raw(account);
      labels->Raw(',');
      labels->Raw(typology);
      labels->Raw('\n');
      rings->Raw(absl::StrCat(ring_id, ",", Av(typology), ",", Av(account), ",",
                              Av(kRoleNames[static_cast<int>(m.role)]), ",",
                              indicators, "\n"));
    }
    ++(r.typology == Typology::kSe   ? stats_.rings_se
       : r.typology == Typology::kFl ? stats_.rings_fl
                                     : stats_.rings_db);
  }
  stats_.rings = static_cast<int64_t>(rings_.size());
  stats_.labelled_accounts = labelled_;
  TXFLAG_RETURN_IF_ERROR(labels->Close());
  TXFLAG_RETURN_IF_ERROR(rings->Close());

  TXFLAG_ASSIGN_OR_RETURN(auto traps,
                          CsvWriter::Open(dir + "/traps.csv", 1 << 16));
  traps->Raw("account,trap\n");
  for (const Customer& c : customers_) {
    if (c.trap == Trap::kNone) continue;
    traps->Raw(Account(c.party));
    traps->Raw(',');
    traps->Raw(kTrapNames[static_cast<int>(c.trap)]);
    traps->Raw('\n');
    ++stats_.trap_accounts;
  }
  return traps->Close();
}

absl::StatusOr<GeneratorStats> Generator::Run(
    const std::string& out_dir, const GeneratorProgress& progress) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) {
    return internal::ErrnoStatus(ec.value(), "create directory", out_dir);
  }
  // Population: external parties, then rings (taken first from the shuffled
  // customers, so no ring member is a trap), then everyone else.
  BuildExternal();
  free_.resize(options_.accounts);
  for (int64_t i = 0; i < options_.accounts; ++i) {
    free_[i] = static_cast<int32_t>(i);
  }
  rng_.Shuffle(free_);
  customers_.resize(options_.accounts);
  BuildRings();
  BuildCustomers();  // keeps the ring roles set above
  // Regular buyers of SE rings (repeat customers; one-off buyers are drawn
  // fresh each time), once every customer has a party.
  for (Ring& r : rings_) {
    if (r.typology != Typology::kSe) continue;
    for (int64_t i = 0, k = rng_.Between(10, 40); i < k; ++i) {
      r.buyer_pool.push_back(
          rng_.Chance(0.15) ? customers_[rng_.Below(customers_.size())].party
                            : rng_.Pick(external_men_));
    }
  }
  stats_.customers = options_.accounts;
  stats_.external_parties =
      static_cast<int64_t>(parties_.size()) - options_.accounts;

  TXFLAG_RETURN_IF_ERROR(WriteSideFiles(out_dir));

  TXFLAG_ASSIGN_OR_RETURN(auto out, CsvWriter::Open(out_dir + "/payments.csv"));
  out->Raw(
      "id,timestamp,debtor_account,debtor_name,debtor_country,creditor_account,"
      "creditor_name,creditor_country,amount,currency,channel,mcc,reference\n");
  events_.reserve(static_cast<size_t>(options_.accounts) * 2);
  for (int i = 0; i < options_.days; ++i) {
    day_ = MakeDay(i);
    for (int64_t ci = 0; ci < options_.accounts; ++ci) {
      CustomerDay(static_cast<int>(ci));
    }
    for (Ring& r : rings_) RingDay(r);
    TXFLAG_RETURN_IF_ERROR(FlushDay(*out));
    if (progress) progress(i + 1, options_.days, stats_.payments);
  }
  stats_.payments_bytes = static_cast<int64_t>(out->bytes());
  TXFLAG_RETURN_IF_ERROR(out->Close());
  return stats_;
}

}  // namespace

// ---------------------------------------------------------------------------

int GeneratorOptions::EffectiveRings() const {
  if (rings >= 0) return rings;
  return static_cast<int>(std::max<int64_t>(3, accounts / 1500));
}

absl::Status GeneratorOptions::Validate() const {
  if (accounts < 100 || accounts > kMaxAccounts) {
    return absl::InvalidArgumentError(
        absl::StrCat("accounts is ", accounts, "; it must be between 100 and ",
                     kMaxAccounts));
  }
  if (days < 1 || days > kMaxDays) {
    return absl::InvalidArgumentError(absl::StrCat(
        "days is ", days, "; it must be between 1 and ", kMaxDays));
  }
  std::optional<int64_t> start = internal::ParseDate(start_date);
  if (!start.has_value() ||
      internal::CivilFromDays(*start + days).year > 9998) {
    return absl::InvalidArgumentError(absl::StrCat(
        "start_date '", start_date,
        "' is not a valid date of the form YYYY-MM-DD (years 1971-9998)"));
  }
  int64_t max_rings = std::max<int64_t>(3, accounts / 40);
  if (rings < -1 || rings > max_rings) {
    return absl::InvalidArgumentError(
        absl::StrCat("rings is ", rings, "; it must be -1 (automatic) or 0 to ",
                     max_rings, " for ", accounts, " accounts"));
  }
  if (!(trap_scale >= 0 && trap_scale <= 10)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "trap_scale is ", trap_scale, "; it must be between 0 and 10"));
  }
  return absl::OkStatus();
}

absl::StatusOr<GeneratorStats> GeneratePopulation(
    const GeneratorOptions& options, const std::string& out_dir,
    GeneratorProgress progress) {
  TXFLAG_RETURN_IF_ERROR(options.Validate());
  Generator generator(options);
  return generator.Run(out_dir, progress);
}

}  // namespace txflag::generator
