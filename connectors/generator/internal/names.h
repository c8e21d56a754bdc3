// File: connectors/generator/internal/names.h
//
// Name and merchant tables for the synthetic population: Danish first names
// and surnames, names common among the victims' and migrant workers'
// countries of origin, company-name parts, and card merchants by MCC.
#ifndef TXFLAG_CONNECTORS_GENERATOR_INTERNAL_NAMES_H_
#define TXFLAG_CONNECTORS_GENERATOR_INTERNAL_NAMES_H_

#include <iterator>
#include <string_view>

namespace txflag::generator::internal {

using Sv = std::string_view;

inline constexpr Sv kDanishFemale[] = {
    "Anne",    "Kirsten", "Mette",   "Hanne",     "Helle",  "Anna",
    "Susanne", "Lene",    "Maria",   "Marianne",  "Lone",   "Camilla",
    "Pia",     "Louise",  "Inge",    "Charlotte", "Bente",  "Tina",
    "Karen",   "Ida",     "Emma",    "Sofie",     "Julie",  "Freja",
    "Clara",   "Laura",   "Cecilie", "Mathilde",  "Signe",  "Maja",
    "Katrine", "Rikke",   "Line",    "Birgitte",  "Dorthe", "Sara",
    "Astrid",  "Nanna",   "Johanne", "Ella",      "Alma",   "Agnes"};
inline constexpr Sv kDanishMale[] = {
    "Peter",  "Jens",    "Lars",     "Michael",     "Henrik", "Thomas",
    "Søren",  "Jan",     "Niels",    "Anders",      "Morten", "Jesper",
    "Mads",   "Rasmus",  "Martin",   "Christian",   "Hans",   "Per",
    "Ole",    "Kim",     "Frederik", "Mikkel",      "Jacob",  "Jonas",
    "Emil",   "Oliver",  "William",  "Lucas",       "Magnus", "Tobias",
    "Kasper", "Nikolaj", "Brian",    "Torben",      "Claus",  "Bo",
    "Erik",   "Poul",    "Simon",    "Christoffer", "Malthe", "Aksel"};
inline constexpr Sv kDanishSurname[] = {
    "Nielsen",      "Jensen",      "Hansen",     "Pedersen",   "Andersen",
    "Christensen",  "Larsen",      "Sørensen",   "Rasmussen",  "Jørgensen",
    "Petersen",     "Madsen",      "Kristensen", "Olsen",      "Thomsen",
    "Christiansen", "Poulsen",     "Johansen",   "Møller",     "Mortensen",
    "Knudsen",      "Jakobsen",    "Mikkelsen",  "Olesen",     "Frederiksen",
    "Laursen",      "Henriksen",   "Lund",       "Schmidt",    "Holm",
    "Eriksen",      "Kristiansen", "Nørgaard",   "Clausen",    "Simonsen",
    "Svendsen",     "Andreasen",   "Iversen",    "Østergaard", "Jeppesen",
    "Vestergaard",  "Lauridsen",   "Dahl",       "Bach",       "Kjær",
    "Lindberg",     "Skov",        "Bruun",      "Damgaard",   "Thorsen"};
inline constexpr Sv kMiddleName[] = {"Juul", "Bach",  "Holm",  "Lund",
                                     "Skov", "Krogh", "Friis", "Berg",
                                     "Dam",  "Kjær",  "Bech",  "Munk"};

// Countries of origin: first names and surnames.
struct OriginNames {
  Sv country;  // ISO 3166-1 alpha-2
  const Sv* first;
  int first_n;
  const Sv* last;
  int last_n;
};
inline constexpr Sv kNgFirst[] = {"Blessing", "Joy",  "Precious", "Mercy",
                                  "Favour",   "Gift", "Faith",    "Esther",
                                  "Osas",     "Efe",  "Chioma",   "Ngozi"};
inline constexpr Sv kNgLast[] = {"Okafor", "Eze",      "Osagie", "Igbinedion",
                                 "Okoro",  "Adeyemi",  "Obi",    "Omoregie",
                                 "Edo",    "Nwachukwu"};
inline constexpr Sv kThFirst[] = {"Siriporn", "Nok",   "Malee",   "Ploy",
                                  "Kanya",    "Pim",   "Somchai", "Lamai",
                                  "Dao",      "Achara"};
inline constexpr Sv kThLast[] = {"Saetang", "Srisuk",  "Chaiyaporn",
                                 "Wongsa",  "Boonmee", "Thongchai",
                                 "Kaewkla", "Phromma"};
inline constexpr Sv kRoFirst[] = {"Andreea",   "Ioana",    "Elena",   "Maria",
                                  "Ionut",     "Florin",   "Gabriel", "Mihai",
                                  "Alexandru", "Cristina", "Vasile",  "Adrian"};
inline constexpr Sv kRoLast[] = {"Popescu", "Ionescu", "Popa",     "Dumitru",
                                 "Stan",    "Stoica",  "Gheorghe", "Matei",
                                 "Ciobanu", "Rusu"};
inline constexpr Sv kPlFirst[] = {
    "Piotr",     "Krzysztof", "Tomasz", "Paweł",  "Marcin",    "Anna",
    "Katarzyna", "Agnieszka", "Michał", "Łukasz", "Magdalena", "Jakub"};
inline constexpr Sv kPlLast[] = {
    "Nowak",    "Kowalski",    "Wiśniewski", "Wójcik",    "Kowalczyk",
    "Kamiński", "Lewandowski", "Zieliński",  "Szymański", "Woźniak"};
inline constexpr Sv kUaFirst[] = {"Oleksandr", "Andriy",  "Serhiy", "Olena",
                                  "Iryna",     "Natalia", "Dmytro", "Yulia",
                                  "Taras",     "Oksana"};
inline constexpr Sv kUaLast[] = {"Shevchenko", "Kovalenko",  "Bondarenko",
                                 "Tkachenko",  "Kravchenko", "Melnyk",
                                 "Boyko",      "Koval"};
inline constexpr Sv kBrFirst[] = {"Ana",     "Juliana", "Fernanda", "Camila",
                                  "Larissa", "Bruna",   "Thais",    "Patricia"};
inline constexpr Sv kBrLast[] = {"Silva", "Santos",  "Oliveira", "Souza",
                                 "Lima",  "Pereira", "Costa",    "Ferreira"};
inline constexpr Sv kMaFirst[] = {"Fatima", "Khadija", "Youssef", "Mohamed",
                                  "Said",   "Nadia",   "Rachid",  "Samira"};
inline constexpr Sv kMaLast[] = {"El Amrani", "Benali",  "Alaoui",  "Bennani",
                                 "Tazi",      "Idrissi", "Chraibi", "Ouali"};
inline constexpr Sv kBgFirst[] = {"Georgi", "Ivan",  "Dimitar", "Nikolay",
                                  "Stoyan", "Petar", "Maria",   "Desislava"};
inline constexpr Sv kBgLast[] = {"Ivanov",  "Georgiev", "Dimitrov", "Petrov",
                                 "Nikolov", "Stoyanov", "Todorov",  "Angelov"};

inline constexpr OriginNames kOrigins[] = {
    {"NG", kNgFirst, std::size(kNgFirst), kNgLast, std::size(kNgLast)},
    {"TH", kThFirst, std::size(kThFirst), kThLast, std::size(kThLast)},
    {"RO", kRoFirst, std::size(kRoFirst), kRoLast, std::size(kRoLast)},
    {"PL", kPlFirst, std::size(kPlFirst), kPlLast, std::size(kPlLast)},
    {"UA", kUaFirst, std::size(kUaFirst), kUaLast, std::size(kUaLast)},
    {"BR", kBrFirst, std::size(kBrFirst), kBrLast, std::size(kBrLast)},
    {"MA", kMaFirst, std::size(kMaFirst), kMaLast, std::size(kMaLast)},
    {"BG", kBgFirst, std::size(kBgFirst), kBgLast, std::size(kBgLast)},
};

inline constexpr Sv kTowns[] = {
    "København K", "København N", "København S", "Frederiksberg", "Valby",
    "Aarhus C",    "Aarhus N",    "Odense C",    "Aalborg",       "Esbjerg",
    "Randers",     "Kolding",     "Horsens",     "Vejle",         "Roskilde",
    "Herning",     "Hørsholm",    "Helsingør",   "Silkeborg",     "Næstved",
    "Fredericia",  "Viborg",      "Køge",        "Holstebro",     "Slagelse",
    "Hillerød",    "Svendborg",   "Hjørring",    "Holbæk",        "Sønderborg"};
inline constexpr Sv kStreets[] = {
    "Vesterbrogade", "Nørrebrogade",     "Amagerbrogade", "Østerbrogade",
    "Strøget",       "Søndergade",       "Algade",        "Jernbanegade",
    "Torvet",        "Banegårdspladsen", "Bryggen",       "Storcenter"};

inline constexpr Sv kCompanyFirst[] = {
    "Nordisk", "Dansk", "Jysk",  "Fyns", "Sjællands", "Øresund", "Vestkyst",
    "Nord",    "Skov",  "Havne", "City", "Grøn",      "Byens",   "Kyst",
    "Hede",    "Fjord", "Bakke", "Lyng", "Strand",    "Polar"};
inline constexpr Sv kCompanySecond[] = {
    "Byg",       "VVS",       "El-service", "Tømrer",   "Maler",
    "Rengøring", "Transport", "Data",       "Consult",  "Design",
    "Auto",      "Køkken",    "Ejendomme",  "Logistik", "Anlæg",
    "Kaffe",     "Blomster",  "Cykler",     "Foto",     "Revision"};
inline constexpr Sv kCompanyForm[] = {"ApS", "ApS", "ApS", "A/S", "I/S", "IVS"};

// Card merchants by MCC. `lo`/`hi` are typical amounts in whole DKK.
struct MerchantCategory {
  int mcc;
  int weight;  // share of everyday card purchases (0: special use only)
  int lo;
  int hi;
  const Sv* brands;
  int brand_n;
};
inline constexpr Sv kGrocery[] = {
    "NETTO",    "FØTEX",        "BILKA",   "REMA 1000", "LIDL",    "MENY",
    "COOP 365", "SUPERBRUGSEN", "KVICKLY", "SPAR",      "LØVBJERG"};
inline constexpr Sv kRestaurant[] = {
    "JENSENS BØFHUS",      "STICKS N SUSHI",  "CAFE NORDEN",   "MADKLUBBEN",
    "RESTAURANT KRONBORG", "PIZZERIA NAPOLI", "TAKEAWAY THAI", "CAFE BOHEME"};
inline constexpr Sv kFastFood[] = {
    "MCDONALDS",   "BURGER KING", "SUNSET BLVD", "JOE & THE JUICE",
    "DALLE VALLE", "GRILLBAR",    "WOLT",        "JUST EAT"};
inline constexpr Sv kFuel[] = {"CIRCLE K", "Q8",    "OK PLUS",
                               "SHELL",    "UNO-X", "INGO"};
inline constexpr Sv kTransit[] = {"REJSEKORT", "DOT MOVIA", "METRO SERVICE"};
inline constexpr Sv kRail[] = {"DSB BILLETAUTOMAT", "DSB.DK", "DSB APP"};
inline constexpr Sv kTaxi[] = {"DANTAXI", "TAXA 4X35", "DRIVR", "TAXI FYN"};
inline constexpr Sv kPharmacy[] = {"APOTEKET", "APOTEK", "LÆGEHUSETS APOTEK"};
inline constexpr Sv kClothing[] = {
    "H&M", "ZARA", "MAGASIN", "ONLY", "JACK & JONES", "VERO MODA", "SPORT 24"};
inline constexpr Sv kHome[] = {"BAUHAUS",       "SILVAN", "JEM & FIX",
                               "HARALD NYBORG", "IKEA",   "JYSK"};
inline constexpr Sv kElectronics[] = {"ELGIGANTEN", "POWER", "PROSHOP",
                                      "BILKA ELEKTRONIK"};
inline constexpr Sv kConvenience[] = {"7-ELEVEN", "LAGKAGEHUSET", "EMMERYS",
                                      "ANDERSEN BAGERI", "KIOSK"};
inline constexpr Sv kCinema[] = {"NORDISK FILM BIOGRAFER", "CINEMAXX",
                                 "BIOGRAFEN"};
inline constexpr Sv kDrugstore[] = {"MATAS", "NORMAL", "NICHE BEAUTY"};
inline constexpr Sv kHair[] = {"FRISØR", "HAIR STUDIO", "SAKS"};
inline constexpr Sv kHotel[] = {
    "SCANDIC",     "COMWELL",    "CABINN", "RADISSON", "HOTEL D ANGLETERRE",
    "ZLEEP HOTEL", "FIRST HOTEL"};
inline constexpr Sv kAirline[] = {"SAS", "NORWEGIAN", "LUFTHANSA",
                                  "KLM", "RYANAIR",   "EASYJET"};
inline constexpr Sv kMoving[] = {"FLYTTEFIRMA", "3MAND FLYTNING",
                                 "DANMARKS FLYTTEFIRMA"};

inline constexpr MerchantCategory kCategories[] = {
    {5411, 40, 30, 900, kGrocery, std::size(kGrocery)},
    {5812, 7, 150, 1200, kRestaurant, std::size(kRestaurant)},
    {5814, 8, 50, 250, kFastFood, std::size(kFastFood)},
    {5541, 6, 200, 900, kFuel, std::size(kFuel)},
    {4111, 8, 12, 150, kTransit, std::size(kTransit)},
    {4112, 3, 50, 600, kRail, std::size(kRail)},
    {4121, 1, 100, 450, kTaxi, std::size(kTaxi)},
    {5912, 3, 30, 400, kPharmacy, std::size(kPharmacy)},
    {5651, 3, 100, 1500, kClothing, std::size(kClothing)},
    {5200, 2, 100, 2000, kHome, std::size(kHome)},
    {5732, 1, 100, 5000, kElectronics, std::size(kElectronics)},
    {5499, 6, 25, 150, kConvenience, std::size(kConvenience)},
    {7832, 1, 100, 350, kCinema, std::size(kCinema)},
    {5977, 2, 30, 400, kDrugstore, std::size(kDrugstore)},
    {7230, 1, 200, 600, kHair, std::size(kHair)},
    {7011, 0, 900, 2500, kHotel, std::size(kHotel)},
    {4511, 0, 900, 6000, kAirline, std::size(kAirline)},
    {4214, 0, 2500, 9000, kMoving, std::size(kMoving)},
};
// Indexes into kCategories for special uses.
inline constexpr int kCatTaxi = 6;
inline constexpr int kCatRail = 5;
inline constexpr int kCatHotel = 15;
inline constexpr int kCatAirline = 16;
inline constexpr int kCatMoving = 17;

inline constexpr Sv kMobilePayRefs[] = {"pizza",
                                        "tak for lån",
                                        "biograf",
                                        "øl",
                                        "fredagsbar",
                                        "middag",
                                        "gave",
                                        "fødselsdag",
                                        "benzin",
                                        "koncert",
                                        "tak for i går",
                                        "sushi",
                                        "brunch",
                                        "kaffe",
                                        "taxa",
                                        "Tivoli",
                                        "billetter",
                                        "mad",
                                        "",
                                        "",
                                        "pizza, øl",
                                        "husk \"gaven\"",
                                        "🍕",
                                        "fælleskassen",
                                        "padel"};
inline constexpr Sv kFamilyRefs[] = {
    "lommepenge", "god weekend", "til mad",
    "kh mor",     "kh far",      "husleje hjælp",
    "",           "til bøger",   "kram mormor"};

// Sex-ad and escort platforms named in the Danish Centre against Human
// Trafficking's reports.
inline constexpr Sv kAdSites[] = {"EROGUIDE.DK", "Eroguide ApS",
                                  "ANNONCELIGHT.DK", "escortguide.dk", "EB.DK"};
inline constexpr Sv kRentRefsRing[] = {
    "leje", "husleje", "room", "værelse", "Leje", "rent", "værelse uge", ""};

}  // namespace txflag::generator::internal

#endif  // TXFLAG_CONNECTORS_GENERATOR_INTERNAL_NAMES_H_
