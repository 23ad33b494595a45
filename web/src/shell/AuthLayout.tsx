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
}: {
  title: string;
  subtitle?: ComponentChildren;
  children: ComponentChildren;
  footer?: ComponentChildren;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (hasNavigated()) heading.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <div class="auth">
      <main class="auth-main" id="main">
        <div class="auth-brand">
          <LogoMark size={36} />
          <span class="auth-brand-name">Atrium</span>
        </div>
        <div class="auth-card">
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
