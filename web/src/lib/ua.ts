// Summarises a User-Agent header into "Chrome on macOS" and a device kind. Deliberately small: it
// names the common browsers and systems and says "Unknown browser" for the rest.

export type DeviceKind = 'desktop' | 'phone' | 'tablet' | 'cli';

export interface DeviceSummary {
  browser: string;
  os: string | null;
  kind: DeviceKind;
  /** e.g. "Chrome 131 on macOS", "Safari on iPhone", "curl 8.5". */
  label: string;
}

function version(ua: string, re: RegExp): string | null {
  const m = ua.match(re);
  return m ? m[1].split('.')[0] : null;
}

function browserOf(ua: string): string {
  const rules: [RegExp, string, RegExp | null][] = [
    [/\bEdg(?:e|A|iOS)?\//, 'Edge', /\bEdg(?:e|A|iOS)?\/([\d.]+)/],
    [/\bOPR\/|\bOpera\b/, 'Opera', /\bOPR\/([\d.]+)/],
    [/\bSamsungBrowser\//, 'Samsung Internet', /SamsungBrowser\/([\d.]+)/],
    [/\bFirefox\/|\bFxiOS\//, 'Firefox', /(?:Firefox|FxiOS)\/([\d.]+)/],
    [/\bCriOS\//, 'Chrome', /CriOS\/([\d.]+)/],
    [/\bHeadlessChrome\//, 'Headless Chrome', /HeadlessChrome\/([\d.]+)/],
    [/\bChromium\//, 'Chromium', /Chromium\/([\d.]+)/],
    [/\bChrome\//, 'Chrome', /Chrome\/([\d.]+)/],
    [/\bVersion\/[\d.]+.*Safari\//, 'Safari', /Version\/([\d.]+)/],
    [/^curl\//, 'curl', /^curl\/([\d.]+)/],
    [/^Wget\//i, 'Wget', /^Wget\/([\d.]+)/i],
    [/^python-requests\//, 'Python requests', /^python-requests\/([\d.]+)/],
    [/^node|undici/i, 'Node.js', null],
    [/^Atrium-CLI|^atrium\//i, 'Atrium CLI', /\/([\d.]+)/],
  ];
  for (const [test, name, ver] of rules) {
    if (test.test(ua)) {
      const v = ver ? version(ua, ver) : null;
      return v && name !== 'Safari' ? `${name} ${v}` : name;
    }
  }
  return 'Unknown browser';
}

function osOf(ua: string): string | null {
  if (/\biPhone\b/.test(ua)) return 'iPhone';
  if (/\biPad\b/.test(ua)) return 'iPad';
  if (/\bAndroid\b/.test(ua)) return 'Android';
  if (/\bCrOS\b/.test(ua)) return 'ChromeOS';
  if (/\bWindows\b/.test(ua)) return 'Windows';
  if (/\bMac OS X\b|\bMacintosh\b/.test(ua)) return 'macOS';
  if (/\bLinux\b|\bX11\b/.test(ua)) return 'Linux';
  return null;
}

export function summariseUserAgent(ua: string | null | undefined): DeviceSummary {
  const s = (ua ?? '').trim();
  if (!s) return { browser: 'Unknown browser', os: null, kind: 'desktop', label: 'Unknown device' };
  const browser = browserOf(s);
  const os = osOf(s);
  let kind: DeviceKind = 'desktop';
  if (/^(curl|Wget|python-requests|node|undici|Atrium-CLI|atrium)/i.test(s)) kind = 'cli';
  else if (/\biPad\b|\bTablet\b/.test(s) || (/\bAndroid\b/.test(s) && !/\bMobile\b/.test(s))) kind = 'tablet';
  else if (/\bMobile\b|\biPhone\b/.test(s)) kind = 'phone';
  const label = os ? `${browser} on ${os}` : browser;
  return { browser, os, kind, label };
}
