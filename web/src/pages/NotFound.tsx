import { Link } from '../router';
import { IconCompass } from '../ui';
import { useTitle } from './title';

export function NotFound({ signedIn }: { signedIn: boolean }) {
  useTitle('Page not found');
  return (
    <div class="not-found">
      <div class="not-found-icon" aria-hidden="true">
        <IconCompass size={24} />
      </div>
      <p class="not-found-code">404</p>
      <h1 tabIndex={-1}>Page not found</h1>
      <p class="not-found-text">The page you're looking for doesn't exist or may have moved. Check the address, or head back.</p>
      <Link href={signedIn ? '/settings' : '/sign-in'} class="btn btn-primary btn-md">
        {signedIn ? 'Back to Settings' : 'Go to sign in'}
      </Link>
    </div>
  );
}
