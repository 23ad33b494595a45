/** The Atrium mark: an "A" in an accent tile. */
export function LogoMark({ size = 28 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false" class="logo-mark">
      <rect width="32" height="32" rx="8" fill="#4f46e5" />
      <path d="M16 7 8 25h4l1.6-4h4.8l1.6 4h4L16 7Zm-1.2 11L16 14.6 17.2 18h-2.4Z" fill="#fff" />
    </svg>
  );
}
