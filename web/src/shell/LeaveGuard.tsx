// "Leave without saving?": the dialog the router's held navigation waits for (lib/unsaved.ts).
import { useLeaveRequest } from '../router';
import { ConfirmDialog } from '../ui';

export function LeaveGuard() {
  const { request, leave, stay } = useLeaveRequest();
  return (
    <ConfirmDialog
      open={!!request}
      title="Leave without saving?"
      description="You have unsaved changes on this page. If you leave now, they are lost."
      confirmLabel="Leave without saving"
      cancelLabel="Stay on this page"
      onConfirm={leave}
      onCancel={stay}
    />
  );
}
