// The profile picture on the Profile page: upload a PNG, JPEG or WebP, choose the square to keep with a
// live preview (drag the square, or use the three sliders), and send the file with that square. The
// server decodes it and stores a 256×256 PNG of its own, so what shows afterwards is never the upload's
// bytes. A picture the browser already knows is too big (type, 5 MB, 8000 px a side) is refused here
// before anything is sent; the server checks the same again.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, profileApi, type Profile } from '../api';
import { initials } from '../lib/format';
import { Alert, Button, Dialog, useToast } from '../ui';
import './profile-avatar.css';

const TYPES = ['image/png', 'image/jpeg', 'image/webp'];
const MAX_BYTES = 5 * 1024 * 1024;
const MAX_SIDE = 8000;
const MAX_PIXELS = 40_000_000;
const PREVIEW = 96;

/** An avatar Atrium stores (uploaded here), as opposed to a link the user typed. */
export const isUploadedAvatar = (url: string | null) => !!url && url.startsWith('/api/v1/avatars/');

interface Picked {
  file: File;
  url: string;
  img: HTMLImageElement;
  width: number;
  height: number;
}
interface Crop {
  x: number;
  y: number;
  size: number;
}

/** The file as a data: URL (the page's CSP allows data: images, not blob: ones). */
function readAsDataURL(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result));
    r.onerror = () => reject(new Error('unreadable'));
    r.readAsDataURL(file);
  });
}

function loadImage(url: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error('not a picture'));
    img.src = url;
  });
}

const mb = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MB`;
const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

export function ProfileAvatar({ profile, onChanged }: { profile: Profile; onChanged: (p: Profile) => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [picked, setPicked] = useState<Picked | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [removing, setRemoving] = useState(false);
  const toast = useToast();

  const close = () => setPicked(null);

  const onFile = async (e: Event) => {
    const el = e.currentTarget as HTMLInputElement;
    const file = el.files?.[0];
    el.value = '';
    if (!file) return;
    setError(null);
    if (!TYPES.includes(file.type)) return setError('Choose a PNG, JPEG or WebP picture.');
    if (file.size > MAX_BYTES) return setError(`This picture is ${mb(file.size)}; choose one of 5 MB or less.`);
    try {
      const url = await readAsDataURL(file);
      const img = await loadImage(url);
      const width = img.naturalWidth;
      const height = img.naturalHeight;
      if (width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS)
        return setError('This picture is too large: at most 8000 pixels a side and 40 megapixels.');
      setPicked({ file, url, img, width, height });
    } catch {
      setError("This file can't be read as a picture.");
    }
  };

  const remove = async () => {
    setRemoving(true);
    setError(null);
    try {
      onChanged(await profileApi.removeAvatar());
      toast({ title: 'Photo removed' });
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'The photo could not be removed. Try again.');
    } finally {
      setRemoving(false);
    }
  };

  return (
    <div class="avatar-edit">
      {profile.avatar_url ? (
        <img class="avatar avatar-xl avatar-img" src={profile.avatar_url} alt="Your profile photo" />
      ) : (
        <span class="avatar avatar-xl" aria-hidden="true">
          {initials(profile.name, profile.email)}
        </span>
      )}
      <div class="avatar-edit-body">
        <div class="avatar-edit-actions">
          <Button size="sm" onClick={() => input.current?.click()}>
            {profile.avatar_url ? 'Change photo' : 'Upload photo'}
          </Button>
          {profile.avatar_url && (
            <Button size="sm" variant="ghost" loading={removing} onClick={remove}>
              Remove photo
            </Button>
          )}
        </div>
        <p class="field-hint">PNG, JPEG or WebP, up to 5 MB. You choose the square next.</p>
        {error && (
          <p class="field-error" role="alert">
            {error}
          </p>
        )}
        <input
          ref={input}
          type="file"
          accept={TYPES.join(',')}
          class="visually-hidden"
          aria-label="Profile photo file"
          tabIndex={-1}
          onChange={onFile}
        />
      </div>
      {picked && (
        <CropDialog
          picked={picked}
          onClose={close}
          onSaved={(p) => {
            onChanged(p);
            close();
            toast({ title: 'Photo updated' });
          }}
        />
      )}
    </div>
  );
}

/** The crop step: the whole picture with the square over it, sliders for its size and place, a round
 * preview of the result, and the upload itself (errors stay in the dialog, next to the picture). */
function CropDialog({ picked, onClose, onSaved }: { picked: Picked; onClose: () => void; onSaved: (p: Profile) => void }) {
  const { width: w, height: h } = picked;
  const maxSize = Math.min(w, h);
  const minSize = Math.max(1, Math.min(maxSize, Math.round(maxSize / 8)));
  const [crop, setCrop] = useState<Crop>({ x: Math.floor((w - maxSize) / 2), y: Math.floor((h - maxSize) / 2), size: maxSize });
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const stage = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const drag = useRef<{ px: number; py: number; x: number; y: number } | null>(null);

  const place = (c: Crop) => {
    const size = clamp(Math.round(c.size), minSize, maxSize);
    setCrop({ size, x: clamp(Math.round(c.x), 0, w - size), y: clamp(Math.round(c.y), 0, h - size) });
  };
  const resize = (size: number) => {
    const cx = crop.x + crop.size / 2;
    const cy = crop.y + crop.size / 2;
    place({ size, x: cx - size / 2, y: cy - size / 2 });
  };

  useEffect(() => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx) return;
    ctx.imageSmoothingQuality = 'high';
    ctx.clearRect(0, 0, PREVIEW, PREVIEW);
    ctx.drawImage(picked.img, crop.x, crop.y, crop.size, crop.size, 0, 0, PREVIEW, PREVIEW);
  }, [crop, picked]);

  const onPointerDown = (e: PointerEvent) => {
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    drag.current = { px: e.clientX, py: e.clientY, x: crop.x, y: crop.y };
  };
  const onPointerMove = (e: PointerEvent) => {
    const d = drag.current;
    const el = stage.current;
    if (!d || !el) return;
    const scale = w / el.clientWidth; // picture pixels per CSS pixel
    place({ size: crop.size, x: d.x + (e.clientX - d.px) * scale, y: d.y + (e.clientY - d.py) * scale });
  };
  const onPointerUp = () => {
    drag.current = null;
  };

  const save = async () => {
    setSaving(true);
    setError(null);
    try {
      onSaved(await profileApi.uploadAvatar(picked.file, picked.file.type, crop));
    } catch (err) {
      if (err instanceof ApiError) setError(err.errors.map((e) => e.message).join(' ') || err.detail || err.title);
      else setError('The photo could not be uploaded. Try again.');
      setSaving(false);
    }
  };

  const pct = (v: number, of: number) => `${(v / of) * 100}%`;
  return (
    <Dialog
      open
      onClose={onClose}
      dismissable={!saving}
      title="Crop your photo"
      description="Drag the square, or use the sliders, to choose what shows. Atrium keeps a 256 × 256 copy."
      footer={
        <>
          <Button variant="ghost" onClick={onClose} disabled={saving}>
            Cancel
          </Button>
          <Button variant="primary" onClick={save} loading={saving}>
            Save photo
          </Button>
        </>
      }
    >
      {error && (
        <Alert tone="danger" title="The photo was not accepted" class="crop-alert">
          {error}
        </Alert>
      )}
      <div class="crop">
        <div
          class="crop-stage"
          ref={stage}
          style={{ aspectRatio: `${w} / ${h}`, maxWidth: `min(100%, ${Math.round((280 * w) / Math.max(w, h))}px)` }}
        >
          <img src={picked.url} alt="" class="crop-image" draggable={false} />
          <div
            class="crop-box"
            aria-hidden="true"
            data-testid="crop-box"
            style={{ left: pct(crop.x, w), top: pct(crop.y, h), width: pct(crop.size, w), height: pct(crop.size, h) }}
            onPointerDown={onPointerDown}
            onPointerMove={onPointerMove}
            onPointerUp={onPointerUp}
            onPointerCancel={onPointerUp}
          />
        </div>
        <div class="crop-side">
          <canvas ref={canvas} width={PREVIEW} height={PREVIEW} class="crop-preview" role="img" aria-label="Preview of your photo" />
          <p class="crop-size">
            {crop.size} × {crop.size} px of {w} × {h}
          </p>
        </div>
      </div>
      <div class="crop-sliders">
        {maxSize > minSize && (
          <label class="crop-slider">
            <span>Zoom</span>
            <input
              type="range"
              min={minSize}
              max={maxSize}
              value={maxSize + minSize - crop.size}
              onInput={(e) => resize(maxSize + minSize - Number((e.currentTarget as HTMLInputElement).value))}
            />
          </label>
        )}
        {w > crop.size && (
          <label class="crop-slider">
            <span>Left and right</span>
            <input
              type="range"
              min={0}
              max={w - crop.size}
              value={crop.x}
              onInput={(e) => place({ ...crop, x: Number((e.currentTarget as HTMLInputElement).value) })}
            />
          </label>
        )}
        {h > crop.size && (
          <label class="crop-slider">
            <span>Up and down</span>
            <input
              type="range"
              min={0}
              max={h - crop.size}
              value={crop.y}
              onInput={(e) => place({ ...crop, y: Number((e.currentTarget as HTMLInputElement).value) })}
            />
          </label>
        )}
      </div>
    </Dialog>
  );
}
