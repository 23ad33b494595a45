// Who is signed in. Loaded once from GET /me at start; updated by sign-in, sign-up and sign-out; and
// dropped when any authenticated call answers 401 (the session ended elsewhere or expired).
import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useState } from 'preact/hooks';
import { api, ApiError, onUnauthorized, type AuthOptions, type Me } from './api';

export type SessionState =
  | { status: 'loading' }
  | { status: 'signed-in'; me: Me }
  | { status: 'signed-out'; reason?: 'expired' | 'signed-out' }
  | { status: 'error'; error: unknown };

interface SessionContextValue {
  state: SessionState;
  /** Re-asks GET /me (after an error, or to refresh the user). */
  reload: () => void;
  signedIn: (me: Me) => void;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionContextValue | null>(null);

export function SessionProvider({ children }: { children: ComponentChildren }) {
  const [state, setState] = useState<SessionState>({ status: 'loading' });

  const load = useCallback(() => {
    api
      .me()
      .then((me) => setState({ status: 'signed-in', me }))
      .catch((error) => {
        if (error instanceof ApiError && error.status === 401) setState({ status: 'signed-out' });
        else setState({ status: 'error', error });
      });
  }, []);

  useEffect(() => {
    load();
    return onUnauthorized(() =>
      setState((s) => (s.status === 'signed-in' ? { status: 'signed-out', reason: 'expired' } : s)),
    );
  }, []);

  const value: SessionContextValue = {
    state,
    reload: () => {
      setState({ status: 'loading' });
      load();
    },
    signedIn: (me) => setState({ status: 'signed-in', me }),
    signOut: async () => {
      try {
        await api.signOut();
      } catch (err) {
        // Already signed out on the server (401) is fine; anything else is worth telling.
        if (!(err instanceof ApiError && err.status === 401)) throw err;
      }
      setState({ status: 'signed-out', reason: 'signed-out' });
    },
  };
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error('useSession outside SessionProvider');
  return ctx;
}

// ---- Auth options (sign-up switch, password rule), fetched once per page load ----------------------

let optionsPromise: Promise<AuthOptions> | null = null;

export function useAuthOptions(): { options: AuthOptions | null; error: unknown; retry: () => void } {
  const [options, setOptions] = useState<AuthOptions | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    if (!optionsPromise) optionsPromise = api.authOptions();
    optionsPromise
      .then((o) => live && setOptions(o))
      .catch((e) => {
        optionsPromise = null;
        if (live) setError(e);
      });
    return () => {
      live = false;
    };
  }, [attempt]);
  return {
    options,
    error,
    retry: () => {
      setError(null);
      setAttempt((a) => a + 1);
    },
  };
}
