/** What a replayed entry means, for its tooltip and its accessible name. */
export const REPLAYED_EXPLANATION = 'answered from the call journal: not made again, not paid again';

/** Marks an LLM or tool call a retried attempt took from the call journal instead of making it. */
export function ReplayedBadge() {
  return (
    <span
      className="badge badge--replayed"
      role="note"
      aria-label={`Replayed: ${REPLAYED_EXPLANATION}`}
      title={`Replayed: ${REPLAYED_EXPLANATION}`}
    >
      replayed
    </span>
  );
}
