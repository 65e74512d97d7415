/** Why the user is not offered some buttons here: one quiet line, or nothing. */
export function RoleNote({ reasons }: { reasons: (string | null)[] }) {
  const shown = reasons.filter((reason): reason is string => Boolean(reason));
  if (!shown.length) return null;
  return (
    <p className="role-note" role="note">
      {shown.join(' ')}
    </p>
  );
}
