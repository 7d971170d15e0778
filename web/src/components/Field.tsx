import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from "react";

type Common = { label: string; error?: string; hint?: ReactNode };

function wrap(id: string, { label, error, hint }: Common, control: (p: { id: string; "aria-invalid"?: boolean; "aria-describedby"?: string }) => ReactNode) {
  const desc = [hint ? `${id}-hint` : "", error ? `${id}-err` : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {control({ id, "aria-invalid": error ? true : undefined, "aria-describedby": desc })}
      {hint && <div id={`${id}-hint`} className="hint">{hint}</div>}
      {error && <div id={`${id}-err`} className="field-error">{error}</div>}
    </div>
  );
}

export function TextInput({ label, error, hint, ...rest }: Common & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  return wrap(id, { label, error, hint }, (p) => <input {...rest} {...p} />);
}

export function TextArea({ label, error, hint, ...rest }: Common & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const id = useId();
  return wrap(id, { label, error, hint }, (p) => <textarea {...rest} {...p} />);
}

export function SelectField({ label, error, hint, children, ...rest }: Common & SelectHTMLAttributes<HTMLSelectElement>) {
  const id = useId();
  return wrap(id, { label, error, hint }, (p) => <select {...rest} {...p}>{children}</select>);
}
