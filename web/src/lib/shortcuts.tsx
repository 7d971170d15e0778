// Single-key shortcuts for the whole app. They never fire while the user
// types in a field, and never with Ctrl/Cmd/Alt held (those belong to the
// browser), so "r" in a reply is just an "r".
import { useEffect, useRef } from "react";

export type Shortcuts = Partial<Record<string, (e: KeyboardEvent) => void>>;

export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const type = (target as HTMLInputElement).type;
    return !["checkbox", "radio", "button", "submit", "reset"].includes(type);
  }
  return target.getAttribute("role") === "textbox" || target.getAttribute("role") === "combobox";
}

/** useShortcuts binds keys (e.g. "j", "?", "Enter") while the component is mounted. */
export function useShortcuts(map: Shortcuts) {
  const ref = useRef(map);
  ref.current = map;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
      if (isTyping(e.target)) return;
      // Enter on a link or a button is that control's own.
      if (e.key === "Enter" && e.target instanceof HTMLElement && e.target.closest("a, button, summary, [role=button], [role=tab], [role=menuitem]")) return;
      // A modal dialog owns the keyboard.
      if (document.querySelector('[role="dialog"][aria-modal="true"]') && e.key !== "Escape") return;
      const fn = ref.current[e.key];
      if (fn) {
        e.preventDefault();
        fn(e);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}
