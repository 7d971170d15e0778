import { render, screen, fireEvent } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { ReplyComposer } from "./ReplyComposer";

function wrap(staff: boolean) {
  return render(
    <QueryClientProvider client={new QueryClient()}>
      <ReplyComposer ticketId="t1" staff={staff} />
    </QueryClientProvider>,
  );
}

describe("ReplyComposer", () => {
  it("says which one it sends: a reply or an internal note", () => {
    wrap(true);
    expect(screen.getByRole("button", { name: "Send reply" })).toBeTruthy();
    fireEvent.click(screen.getByRole("tab", { name: "Internal note" }));
    expect(screen.getByRole("button", { name: "Add internal note" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Send reply" })).toBeNull();
    expect(screen.getByText(/only agents and admins will see this/)).toBeTruthy();
  });
  it("offers customers no internal note", () => {
    wrap(false);
    expect(screen.queryByRole("tab")).toBeNull();
    expect(screen.getByRole("button", { name: "Send reply" })).toBeTruthy();
  });
});
