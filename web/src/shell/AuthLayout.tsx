import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { hasNavigated } from '../router';
import { LogoMark } from './Logo';

/** The frame of the signed-out pages: the mark, a heading, and one centred card. */
export function AuthLayout({
  title,
  subtitle,
  children,
  footer,
  wide,
  variant,
  icon,
}: {
  title: string;
  subtitle?: ComponentChildren;
  children: ComponentChildren;
  footer?: ComponentChildren;
  /** A wider card (for pages that show more than a form, e.g. an invitation). */
  wide?: boolean;
  /** 'ended': a dead end (expired link...): the card says so with its heading centred under an icon. */
  variant?: 'ended';
  /** A mark above the heading (decorative). */
  icon?: ComponentChildren;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (hasNavigated()) heading.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <div class="auth">
      <main class={['auth-main', wide && 'is-wide', variant && `is-${variant}`].filter(Boolean).join(' ')} id="main">
        <div class="auth-brand">
          <LogoMark size={36} />
          <span class="auth-brand-name">Atrium</span>
        </div>
        <div class="auth-card">
          {icon && (
            <div class="auth-icon" aria-hidden="true">
              {icon}
            </div>
          )}
          <h1 class="auth-title" ref={heading} tabIndex={-1}>
            {title}
          </h1>
          {subtitle && <p class="auth-subtitle">{subtitle}</p>}
          <div class="auth-content">{children}</div>
        </div>
        {footer && <div class="auth-footer">{footer}</div>}
      </main>
    </div>
  );
}

/** A full-page loading indicator (while we learn whether someone is signed in). */
export function PageLoading() {
  return (
    <div class="page-loading" aria-busy="true">
      <span class="page-loading-inner">
        <LogoMark size={32} />
        <span class="visually-hidden" role="status">
          Loading Atrium…
        </span>
      </span>
    </div>
  );
}
