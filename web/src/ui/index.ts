// Atrium's design system. Pages import from here only.
import './tokens.css';
import './base.css';
import './ui.css';

export { Alert } from './Alert';
export type { AlertTone } from './Alert';
export { Badge } from './Badge';
export type { BadgeTone } from './Badge';
export { Button } from './Button';
export type { ButtonProps, ButtonSize, ButtonVariant } from './Button';
export { Card } from './Card';
export { ConfirmDialog, Dialog } from './Dialog';
export { EmptyState } from './EmptyState';
export { ErrorState } from './ErrorState';
export { focusFirstInvalid, looksLikeEmail, mapProblemErrors, messageFor, useForm } from './form';
export type { ErrorMessages, FieldBinding, FieldErrors, Form } from './form';
export * from './icons';
export { PageHeader } from './PageHeader';
export { Spinner } from './Spinner';
export { Table } from './Table';
export type { Column } from './Table';
export { TextField } from './TextField';
export type { TextFieldProps } from './TextField';
export { ToastProvider, useToast } from './Toast';
export type { ToastInput, ToastTone } from './Toast';
