/* Format checks for workspace and profile fields: IANA time zones (from the system's tz database),
 * BCP 47 language tags, ISO 4217 currencies, ISO 3166 countries, https URLs, slugs and phone numbers. */
#include "workspace/workspace.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

const char *ws_check_timezone(const char *s, size_t len)
{
    static const char why[] = "Must be an IANA time zone such as Europe/Paris or America/New_York.";
    char path[PATH_MAX];
    struct stat st;
    if (len == 0 || len > 64 || s[0] == '/' || strstr(s, ".."))
        return why;
    for (size_t i = 0; i < len; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '/' || s[i] == '_' || s[i] == '-' || s[i] == '+'))
            return why;
    if (strcmp(s, "UTC") == 0)
        return NULL;
    /* The tz database folder also holds copies (posix/, right/), the machine's own zone (localtime,
     * posixrules) and data files (leapseconds, zone.tab): only real zone names are accepted. */
    if (strncmp(s, "posix/", 6) == 0 || strncmp(s, "right/", 6) == 0 || strcmp(s, "localtime") == 0 ||
        strcmp(s, "posixrules") == 0 || strcmp(s, "Factory") == 0)
        return why;
    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", s);
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return why;
    char magic[4] = {0};
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(magic, 1, sizeof(magic), f) : 0;
    if (f)
        fclose(f);
    if (got != 4 || memcmp(magic, "TZif", 4) != 0)
        return why;
    return NULL;
}

/* BCP 47 in the shape RFC 5646 gives: a 2–3 letter language (or "x" for private use), then subtags of
 * 1 to 8 letters or digits separated by '-' (script, region, variants, extensions, private use). */
const char *ws_check_locale(const char *s, size_t len)
{
    static const char why[] = "Must be a BCP 47 language tag such as en, en-US or zh-Hant-TW.";
    if (len < 2 || len > 35 || s[0] == '-' || s[len - 1] == '-')
        return why;
    size_t i = 0, part = 0;
    while (i < len) {
        size_t start = i;
        bool alpha = true;
        while (i < len && s[i] != '-') {
            if (!isalnum((unsigned char)s[i]))
                return why;
            alpha = alpha && isalpha((unsigned char)s[i]);
            i++;
        }
        size_t n = i - start;
        if (n == 0 || n > 8)
            return why;
        if (part == 0 && !(alpha && (n == 2 || n == 3 || (n == 1 && (s[0] == 'x' || s[0] == 'X')))))
            return why;
        part++;
        i++;
    }
    return NULL;
}

static const char ws_currencies[] =
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF "
    "CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG "
    "HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA "
    "MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD "
    "RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX "
    "USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWG";

const char *ws_check_currency(const char *s, size_t len)
{
    if (len != 3 || !isupper((unsigned char)s[0]) || !isupper((unsigned char)s[1]) || !isupper((unsigned char)s[2]))
        return "Must be an ISO 4217 currency code such as USD or EUR.";
    for (size_t i = 0; i + 3 <= sizeof(ws_currencies) - 1; i += 4)
        if (memcmp(ws_currencies + i, s, 3) == 0)
            return NULL;
    return "Must be an ISO 4217 currency code such as USD or EUR.";
}

static const char ws_countries[] =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
    "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR "
    "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO "
    "JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR "
    "MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO "
    "RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV "
    "TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

const char *ws_check_country(const char *s, size_t len)
{
    if (len == 2)
        for (size_t i = 0; i + 2 <= sizeof(ws_countries) - 1; i += 3)
            if (ws_countries[i] == s[0] && ws_countries[i + 1] == s[1])
                return NULL;
    return "Must be an ISO 3166 country code such as US, FR or JP.";
}

static const char *ws_check_url(const char *s, size_t len, bool http_ok)
{
    size_t scheme = strncmp(s, "https://", 8) == 0 ? 8 : (http_ok && strncmp(s, "http://", 7) == 0 ? 7 : 0);
    if (!scheme || len <= scheme || len > 2048)
        return http_ok ? "Must be a web address starting with https:// or http://." : "Must be an https:// address.";
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f || s[i] == '"' || s[i] == '<' || s[i] == '>' || s[i] == '\\')
            return "Must not contain spaces, quotes or angle brackets.";
    const char *host = s + scheme;
    if (host[0] == '/' || host[0] == '@' || host[0] == ':' || host[0] == '.')
        return "Must name a host after the scheme.";
    return NULL;
}

const char *ws_check_https_url(const char *s, size_t len)
{
    return ws_check_url(s, len, false);
}

const char *ws_check_website(const char *s, size_t len)
{
    return ws_check_url(s, len, true);
}

const char *ws_check_slug(const char *s, size_t len)
{
    if (len < 3 || len > 48 || s[0] == '-' || s[len - 1] == '-')
        return "Must be 3 to 48 lower-case letters, digits or dashes, not starting or ending with a dash.";
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return "Must be 3 to 48 lower-case letters, digits or dashes, not starting or ending with a dash.";
    return NULL;
}

/* A phone number as people write it: an optional leading +, then 7 to 15 digits with spaces, dots,
 * dashes and parentheses between them. */
const char *ws_check_phone(const char *s, size_t len)
{
    int digits = 0;
    for (size_t i = 0; i < len; i++) {
        if (isdigit((unsigned char)s[i]))
            digits++;
        else if (!(s[i] == ' ' || s[i] == '-' || s[i] == '.' || s[i] == '(' || s[i] == ')' || (s[i] == '+' && i == 0)))
            return "Must be a phone number such as +1 415 555 0100.";
    }
    return digits >= 7 && digits <= 15 ? NULL : "Must be a phone number such as +1 415 555 0100.";
}
