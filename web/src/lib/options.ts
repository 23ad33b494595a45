// Option lists for the settings forms: time zones, countries, currencies, languages and business
// types, named in the browser's language. The codes match what the server accepts (ISO 3166,
// ISO 4217, IANA, BCP 47).
import type { SelectGroup, SelectOption } from '../ui';

const COUNTRIES =
  'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ ' +
  'CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR ' +
  'GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO ' +
  'JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR ' +
  'MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO ' +
  'RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV ' +
  'TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW';

const CURRENCIES =
  'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF ' +
  'CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG ' +
  'HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA ' +
  'MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD ' +
  'RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX ' +
  'USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWG';

const LOCALES = [
  'en-US', 'en-GB', 'en-AU', 'en-CA', 'en-IE', 'en-IN', 'en-NZ', 'en-ZA', 'fr-FR', 'fr-CA', 'fr-BE', 'fr-CH',
  'de-DE', 'de-AT', 'de-CH', 'es-ES', 'es-MX', 'es-AR', 'es-CO', 'es-US', 'pt-BR', 'pt-PT', 'it-IT', 'nl-NL',
  'nl-BE', 'sv-SE', 'da-DK', 'nb-NO', 'fi-FI', 'pl-PL', 'cs-CZ', 'ro-RO', 'hu-HU', 'el-GR', 'tr-TR', 'ru-RU',
  'uk-UA', 'he-IL', 'ar-AE', 'ar-SA', 'hi-IN', 'th-TH', 'vi-VN', 'id-ID', 'ms-MY', 'fil-PH', 'ja-JP', 'ko-KR',
  'zh-CN', 'zh-TW', 'zh-HK',
];

export const BUSINESS_TYPES: SelectOption[] = [
  { value: 'sole_proprietorship', label: 'Sole proprietorship' },
  { value: 'partnership', label: 'Partnership' },
  { value: 'llc', label: 'Limited liability company (LLC)' },
  { value: 'corporation', label: 'Corporation' },
  { value: 'nonprofit', label: 'Nonprofit' },
  { value: 'government', label: 'Government entity' },
  { value: 'individual', label: 'Individual' },
  { value: 'other', label: 'Other' },
];

function displayNames(type: 'region' | 'currency' | 'language'): Intl.DisplayNames | null {
  try {
    return new Intl.DisplayNames(undefined, { type });
  } catch {
    return null;
  }
}

const byLabel = (a: SelectOption, b: SelectOption) => a.label.localeCompare(b.label);

let countries: SelectOption[] | null = null;
export function countryOptions(): SelectOption[] {
  if (!countries) {
    const dn = displayNames('region');
    countries = COUNTRIES.split(' ')
      .map((c) => ({ value: c, label: dn?.of(c) ?? c }))
      .sort(byLabel);
  }
  return countries;
}

export function countryName(code: string | null | undefined): string {
  if (!code) return '';
  return displayNames('region')?.of(code) ?? code;
}

let currencies: SelectOption[] | null = null;
export function currencyOptions(): SelectOption[] {
  if (!currencies) {
    const dn = displayNames('currency');
    currencies = CURRENCIES.split(' ').map((c) => ({ value: c, label: `${c} — ${dn?.of(c) ?? c}` }));
  }
  return currencies;
}

let locales: SelectOption[] | null = null;
export function localeOptions(): SelectOption[] {
  if (!locales) {
    const dn = displayNames('language');
    locales = LOCALES.map((l) => ({ value: l, label: `${dn?.of(l) ?? l} (${l})` })).sort(byLabel);
  }
  return locales;
}

export function localeName(tag: string | null | undefined): string {
  if (!tag) return '';
  try {
    return displayNames('language')?.of(tag) ?? tag;
  } catch {
    return tag;
  }
}

function offsetOf(tz: string, when: Date): string {
  try {
    const parts = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'shortOffset' }).formatToParts(when);
    const name = parts.find((p) => p.type === 'timeZoneName')?.value ?? '';
    return name === 'GMT' ? 'GMT+0' : name;
  } catch {
    return '';
  }
}

let zones: SelectGroup[] | null = null;
/** Every IANA time zone the browser knows, grouped by region, each with its current UTC offset. */
export function timezoneGroups(): SelectGroup[] {
  if (!zones) {
    let list: string[] = [];
    try {
      list = (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone');
    } catch {
      list = ['America/New_York', 'America/Chicago', 'America/Denver', 'America/Los_Angeles', 'Europe/London', 'Europe/Paris', 'Asia/Tokyo'];
    }
    const now = new Date();
    const groups = new Map<string, SelectOption[]>();
    for (const tz of list) {
      const slash = tz.indexOf('/');
      if (slash < 0) continue;
      const region = tz.slice(0, slash);
      const place = tz.slice(slash + 1).replace(/_/g, ' ').replace(/\//g, ' — ');
      const opts = groups.get(region) ?? [];
      opts.push({ value: tz, label: `${place} (${offsetOf(tz, now)})` });
      groups.set(region, opts);
    }
    zones = [
      { label: 'Universal', options: [{ value: 'UTC', label: 'UTC (Coordinated Universal Time)' }] },
      ...[...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([label, options]) => ({ label, options })),
    ];
  }
  return zones;
}

/** "Europe/Paris (GMT+1)". */
export function timezoneLabel(tz: string | null | undefined): string {
  if (!tz) return '';
  if (tz === 'UTC') return 'UTC';
  const off = offsetOf(tz, new Date());
  return off ? `${tz.replace(/_/g, ' ')} (${off})` : tz;
}
