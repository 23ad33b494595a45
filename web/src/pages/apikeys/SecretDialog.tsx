// The one-time reveal of a key's secret (after creating or rotating a key): the secret with a copy
// button, the "you won't see it again" note, and a ready-to-run curl call. The secret lives only in
// this dialog's props; closing it drops it.
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type { KeyWithSecret } from '../../api-keys';
import { formatDateTime } from '../../lib/format';
import { Alert, Button, Dialog, IconCheck, IconCopy, IconTerminal } from '../../ui';

type CopyResult = 'copied' | 'selected';

/** Selects the text of an input or of any element (for the manual-copy fallback). */
function selectContents(el: HTMLElement): void {
  if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) {
    el.focus();
    el.select();
    return;
  }
  const range = document.createRange();
  range.selectNodeContents(el);
  const sel = window.getSelection();
  sel?.removeAllRanges();
  sel?.addRange(range);
}

/**
 * Copies text: the async Clipboard API where the browser allows it, else the text is selected and
 * the legacy copy command tried; when that fails too, the text stays selected for Ctrl+C.
 */
export async function copyText(text: string, source: HTMLElement | null): Promise<CopyResult> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return 'copied';
    }
  } catch {
    /* permission refused or no clipboard: fall back below */
  }
  if (!source) return 'selected';
  selectContents(source);
  try {
    if (document.execCommand('copy')) return 'copied';
  } catch {
    /* not supported */
  }
  return 'selected';
}

/** A copy button that says "Copied" for a moment, or how to copy by hand. */
function CopyButton({
  text,
  source,
  label,
  what,
  variant = 'secondary',
  onCopied,
}: {
  text: string;
  source: () => HTMLElement | null;
  label: string;
  /** For the announcement: "Secret copied to the clipboard". */
  what: string;
  variant?: 'primary' | 'secondary';
  onCopied?: () => void;
}) {
  const [state, setState] = useState<'idle' | CopyResult>('idle');
  const timer = useRef<number>();
  useEffect(() => () => window.clearTimeout(timer.current), []);
  const copy = async () => {
    const r = await copyText(text, source());
    setState(r);
    if (r === 'copied') onCopied?.();
    window.clearTimeout(timer.current);
    if (r === 'copied') timer.current = window.setTimeout(() => setState('idle'), 2500);
  };
  return (
    <>
      <Button
        variant={variant}
        size="sm"
        icon={state === 'copied' ? <IconCheck size={14} /> : <IconCopy size={14} />}
        onClick={() => void copy()}
        class="copy-button"
      >
        {state === 'copied' ? 'Copied' : label}
      </Button>
      <span class="visually-hidden" role="status">
        {state === 'copied' ? `${what} copied to the clipboard.` : state === 'selected' ? `${what} selected. Press Control+C to copy it.` : ''}
      </span>
      {state === 'selected' && (
        <span class="copy-fallback" aria-hidden="true">
          Selected — press Ctrl+C (⌘C on a Mac) to copy.
        </span>
      )}
    </>
  );
}

export function SecretDialog({
  result,
  kind,
  wsId,
  oldPrefix,
  overlapUntil,
  onClose,
}: {
  result: KeyWithSecret | null;
  kind: 'created' | 'rotated';
  wsId: string;
  /** For a rotation: the replaced key's prefix and when it stops working. */
  oldPrefix?: string;
  overlapUntil?: string | null;
  onClose: () => void;
}) {
  const id = useId();
  const secretInput = useRef<HTMLTextAreaElement>(null);
  const curlCode = useRef<HTMLElement>(null);
  const done = useRef<HTMLButtonElement>(null);
  const [copied, setCopied] = useState(false);
  useEffect(() => setCopied(false), [result?.secret]);

  if (!result) return <Dialog open={false} onClose={onClose} title="" />;
  const { key, secret } = result;
  const url = `${window.location.origin}/api/v1/workspaces/${encodeURIComponent(wsId)}`;
  const curl = `curl -H "Authorization: Bearer ${secret}" \\\n  ${url}`;
  const readsWorkspace = key.scopes.some((s) => s.startsWith('workspace:'));

  return (
    <Dialog
      open
      onClose={onClose}
      size="lg"
      dismissable={false}
      initialFocus={secretInput}
      title={kind === 'created' ? 'Copy your new API key' : 'Copy the new secret'}
      description={
        kind === 'created' ? (
          <>
            <strong class="reveal-name">{key.name}</strong> is ready. Put the secret wherever the key will be used.
          </>
        ) : (
          <>
            <strong class="reveal-name">{key.name}</strong> has a new secret.
            {oldPrefix &&
              (overlapUntil ? (
                <>
                  {' '}
                  The old one (<code>{oldPrefix}…</code>) keeps working until {formatDateTime(overlapUntil)}.
                </>
              ) : (
                <> The old one (<code>{oldPrefix}…</code>) has stopped working.</>
              ))}
          </>
        )
      }
      footer={
        <Button ref={done} variant="primary" onClick={onClose}>
          {copied ? 'Done' : "I've saved it"}
        </Button>
      }
    >
      <div class="reveal">
        <div class="reveal-secret">
          <label class="field-label" for={`${id}-secret`}>
            Secret key
          </label>
          <div class="reveal-row">
            <textarea
              ref={secretInput}
              id={`${id}-secret`}
              class="input reveal-input mono"
              readOnly
              rows={1}
              value={secret}
              spellcheck={false}
              autoComplete="off"
              data-secret
              aria-describedby={`${id}-once`}
              onFocus={(e) => e.currentTarget.select()}
            />
            <CopyButton
              text={secret}
              source={() => secretInput.current}
              label="Copy"
              what="Secret key"
              variant="primary"
              onCopied={() => setCopied(true)}
            />
          </div>
        </div>
        <Alert tone="warning" title="You won't see this secret again">
          <span id={`${id}-once`}>
            Atrium keeps only a fingerprint of it. Store it in a password manager or your deployment's secret store now. If
            it's lost, rotate the key to get a new one.
          </span>
        </Alert>
        <div class="reveal-try">
          <div class="reveal-try-head">
            <span class="reveal-try-title">
              <IconTerminal size={16} />
              Try it
            </span>
            <CopyButton text={curl} source={() => curlCode.current} label="Copy command" what="Command" />
          </div>
          <pre class="code-block" tabIndex={0} aria-label="Example request with curl">
            <code ref={curlCode}>{curl}</code>
          </pre>
          <p class="reveal-try-note">
            {readsWorkspace
              ? 'Reads this workspace’s settings. Send the key in the Authorization header of every request.'
              : 'This key has no Workspace Settings scope, so this call answers 403 Forbidden — try a path its scopes allow. Send the key in the Authorization header of every request.'}
          </p>
        </div>
      </div>
    </Dialog>
  );
}
