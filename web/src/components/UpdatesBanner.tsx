import { Button } from "react-aria-components";

/** UpdatesBanner offers changes that arrived live instead of moving rows under the user. */
export function UpdatesBanner({ count, onShow }: { count: number; onShow: () => void }) {
  return (
    <div aria-live="polite" className="updates-slot">
      {count > 0 && (
        <div className="updates-banner">
          {count} {count === 1 ? "update" : "updates"} –{" "}
          <Button className="link-button" onPress={onShow}>show</Button>
        </div>
      )}
    </div>
  );
}
