// The two email-change links (issue 12, item 14). /confirm-email/{token}, mailed to the NEW address:
// following it makes that address the sign-in address. /undo-email-change/{token}, mailed to the OLD
// address once the change is made: restores it and signs everyone out. Each acts only on a button
// press, so a mail scanner that opens the link changes nothing.
import { useState } from 'preact/hooks';
import { ApiError, profileApi } from '../api';
import { formatWait } from '../lib/format';
import { Link } from '../router';
import { useSession } from '../session';
import { AuthLayout } from '../shell/AuthLayout';
import { Alert, Button, IconCheck, IconClock, IconMail, IconUndo } from '../ui';
import { useTitle } from './title';
import './public.css';

type Kind = 'confirm' | 'undo';

const TEXT: Record<Kind, { title: string; subtitle: string; button: string; doneTitle: string; done: string; dead: string }> = {
  confirm: {
    title: 'Confirm your new email address',
    subtitle: 'Once you confirm, you sign in with this address and mail about your account comes here. Your other devices are signed out.',
    button: 'Confirm this address',
    doneTitle: 'Your email address is changed',
    done: 'Sign in with your new address from now on. Your previous address was told about the change.',
    dead: 'Confirmation links work for 24 hours and only once, and a newer request replaces older ones. Ask again from your Profile page.',
  },
  undo: {
    title: 'Undo the email change',
    subtitle: 'This puts your previous address back as the sign-in address and signs everyone out of the account, on every device.',
    button: 'Undo the change',
    doneTitle: 'The change is undone',
    done: "Your previous address is back and everyone was signed out. If you didn't make the change, choose a new password now.",
    dead: 'Undo links work for 7 days and only once, and only for the latest change of the address.',
  },
};

export function EmailChangeLink({ token, kind }: { token: string; kind: Kind }) {
  const t = TEXT[kind];
  const { reload } = useSession();
  const [state, setState] = useState<'ready' | 'busy' | 'done' | 'dead'>('ready');
  const [error, setError] = useState<ApiError | null>(null);
  useTitle(state === 'done' ? t.doneTitle : state === 'dead' ? 'This link has expired' : t.title);

  const act = async () => {
    setState('busy');
    setError(null);
    try {
      await (kind === 'confirm' ? profileApi.confirmEmail(token) : profileApi.undoEmail(token));
      // Sessions may have ended (the other devices on confirm, all of them on undo).
      reload();
      setState('done');
    } catch (e) {
      if (e instanceof ApiError && e.fieldError('token')) return setState('dead');
      setError(e instanceof ApiError ? e : null);
      setState('ready');
    }
  };

  if (state === 'dead')
    return (
      <AuthLayout title="This link has expired" icon={<IconClock size={22} />} variant="ended" subtitle={t.dead}>
        <Link href={kind === 'confirm' ? '/settings/profile' : '/sign-in'} class="btn btn-primary btn-lg btn-block">
          {kind === 'confirm' ? 'Go to your profile' : 'Sign in'}
        </Link>
      </AuthLayout>
    );

  if (state === 'done')
    return (
      <AuthLayout title={t.doneTitle} icon={<IconCheck size={22} />} variant="ended" subtitle={t.done}>
        {kind === 'undo' && (
          <Link href="/forgot-password" class="btn btn-primary btn-lg btn-block">
            Choose a new password
          </Link>
        )}
        <Link href="/sign-in" class={`btn ${kind === 'undo' ? 'btn-ghost auth-secondary' : 'btn-primary'} btn-lg btn-block`}>
          Sign in
        </Link>
      </AuthLayout>
    );

  return (
    <AuthLayout title={t.title} icon={kind === 'confirm' ? <IconMail size={22} /> : <IconUndo size={22} />} subtitle={t.subtitle}>
      {error && (
        <Alert tone="danger" title={error.status === 429 ? 'Too many requests from your network' : error.title}>
          {error.status === 429
            ? `For your security this is paused. Try again in ${formatWait(error.retryAfter ?? 60)}.`
            : (error.detail ?? 'Please try again in a moment.')}
        </Alert>
      )}
      <Button variant="primary" size="lg" block loading={state === 'busy'} onClick={act}>
        {t.button}
      </Button>
    </AuthLayout>
  );
}
