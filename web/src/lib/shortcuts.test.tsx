import { render, fireEvent } from "@testing-library/react";
import { useShortcuts } from "./shortcuts";

function Harness({ onR }: { onR: () => void }) {
  useShortcuts({ r: onR, Enter: onR });
  return (
    <div>
      <input aria-label="field" />
      <textarea aria-label="area" />
      <button>btn</button>
    </div>
  );
}

describe("useShortcuts", () => {
  it("fires outside fields, never inside them or with modifiers", () => {
    const onR = vi.fn();
    const { getByLabelText, getByText } = render(<Harness onR={onR} />);
    fireEvent.keyDown(getByLabelText("field"), { key: "r" });
    fireEvent.keyDown(getByLabelText("area"), { key: "r" });
    fireEvent.keyDown(getByText("btn"), { key: "r", ctrlKey: true });
    expect(onR).not.toHaveBeenCalled();
    fireEvent.keyDown(getByText("btn"), { key: "Enter" }); // the button's own
    expect(onR).not.toHaveBeenCalled();
    fireEvent.keyDown(getByText("btn"), { key: "r" });
    expect(onR).toHaveBeenCalledTimes(1);
    fireEvent.keyDown(document.body, { key: "Enter" });
    expect(onR).toHaveBeenCalledTimes(2);
  });
});
