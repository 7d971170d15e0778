// Icons drawn inline (no icon font, nothing fetched), always beside text.
const paths: Record<string, string> = {
  clock: "M8 1.5a6.5 6.5 0 1 0 0 13 6.5 6.5 0 0 0 0-13ZM8 3v5l3.2 2",
  warning: "M8 1.8 15 14H1L8 1.8ZM8 6v4M8 11.6v.8",
  pause: "M5 3v10M11 3v10",
  check: "M2.5 8.5 6.5 12 13.5 4",
  lock: "M4 7h8v7H4zM5.5 7V5a2.5 2.5 0 0 1 5 0v2",
  dash: "M4 8h8",
};

export type IconName = keyof typeof paths;

export function Icon({ name }: { name: IconName }) {
  return (
    <svg className="icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">
      <path d={paths[name]} fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}
