package web_test

// Browser tests: the built UI in Debian's Chromium (driven by chromedp) on the
// real stack (PostgreSQL, in-process Temporal, the worker and the API).
// TICKETD_SKIP_BROWSER_TESTS=1 skips them; nothing else does: a missing
// Chromium or an unbuilt UI fails with how to fix it.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/ticketd/ticketd/internal/testenv"
	"github.com/ticketd/ticketd/models"
	"github.com/ticketd/ticketd/web"
)

const howToBuild = "the web UI is not built into this test binary: run `make build` (or `cd web && npm ci && npm run build`) first, or set TICKETD_SKIP_BROWSER_TESTS=1 to skip the browser tests"

var (
	stack   *testenv.Stack
	site    *httptest.Server
	browser context.Context
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	if os.Getenv("TICKETD_SKIP_BROWSER_TESTS") == "1" {
		fmt.Println("browser tests skipped: TICKETD_SKIP_BROWSER_TESTS=1")
		return m.Run() // the handler's own tests still run; browser tests skip
	}
	ui := web.New()
	if !ui.Built() {
		fmt.Fprintln(os.Stderr, howToBuild)
		return 1
	}
	chromium, err := findChromium()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	db, err := testenv.NewDatabase("web")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer db.Drop()
	gdb, err := db.Open()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ts, err := testenv.NewTemporal()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer ts.Stop()
	stack, err = testenv.NewStack(gdb, ts, testenv.StackOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stack.Close()
	site = httptest.NewServer(web.Mount(stack.Handler, ui))
	defer site.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	var cancel context.CancelFunc
	browser, cancel = chromedp.NewContext(alloc)
	defer cancel()
	if err := chromedp.Do(browser); err != nil {
		fmt.Fprintf(os.Stderr, "start %s: %v\n", chromium, err)
		return 1
	}
	return m.Run()
}

func findChromium() (string, error) {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("chromium is required for the browser tests and was not found: " +
		"install it (Debian/Ubuntu: apt-get update && apt-get install -y chromium), point CHROMIUM at it, " +
		"or set TICKETD_SKIP_BROWSER_TESTS=1 to skip the browser tests")
}

func skipUnlessBrowser(t *testing.T) {
	t.Helper()
	if os.Getenv("TICKETD_SKIP_BROWSER_TESTS") == "1" {
		t.Skip("TICKETD_SKIP_BROWSER_TESTS=1")
	}
}

// person is a user of the browser tests, with a name people recognise in
// the screenshots.
type person struct {
	models.User
	Token string
}

func newPerson(t *testing.T, role models.Role, name string) person {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	id := uuid.Must(uuid.NewV7()).String()
	first := strings.ToLower(strings.Fields(name)[0])
	u := models.User{ID: id, Email: first + "-" + id[len(id)-6:] + "@example.com", Name: name, Role: role,
		Active: true, CreatedAt: now, UpdatedAt: now}
	if err := stack.Store.CreateUser(context.Background(), &u); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return person{User: u, Token: testenv.Token(t, id)}
}

// page is one browser tab in its own browser context (its own storage).
type page struct {
	t   *testing.T
	ctx context.Context
}

func newPage(t *testing.T) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelTimeout)
	p := &page{t: t, ctx: ctx}
	p.do(chromedp.Navigate(site.URL + "/login"))
	return p
}

func (p *page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.fail("%v", err)
	}
}

func (p *page) fail(format string, args ...any) {
	p.t.Helper()
	body, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if len(body) > 3000 {
		body = body[:3000]
	}
	p.t.Fatalf("%s\n--- page %s ---\n%s", fmt.Sprintf(format, args...), p.url(), body)
}

func (p *page) url() string {
	u, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`location.href`))
	return u
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// signIn signs in through the sign-in page, with a password set as
// `ticketd user passwd` would.
func (p *page) signIn(who person) {
	p.t.Helper()
	const pw = "correct horse battery staple"
	hash, err := models.HashPassword(pw, models.DefaultPasswordParams)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := stack.Store.SetPasswordHash(context.Background(), who.ID, hash); err != nil {
		p.t.Fatal(err)
	}
	p.open("/login")
	p.waitText("h1", "Sign in")
	p.typeInto("Email", who.Email)
	p.typeInto("Password", "wrong password!")
	p.click("button", "Sign in")
	p.waitText("[role=alert]", "The email or password is not right")
	p.axe("sign-in with an error")
	p.do(chromedp.Focus(p.mark("input", "Password")))
	p.selectAll()
	p.typeInto("Password", pw)
	p.screenshot("sign-in")
	p.click("button", "Sign in")
	p.waitFor("signed in", `!location.pathname.startsWith("/login")`, 30*time.Second)
}

// signInAs puts a session in the tab's storage, as the sign-in page would.
func (p *page) signInAs(who person) {
	p.t.Helper()
	session := map[string]any{"token": who.Token, "expiresAt": time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		"user": map[string]any{"id": who.ID, "email": who.Email, "name": who.Name, "role": who.Role, "active": true,
			"created_at": who.CreatedAt, "updated_at": who.UpdatedAt}}
	raw, _ := json.Marshal(session)
	p.do(chromedp.Navigate(site.URL+"/login"),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Evaluate[chromedp.Void](`localStorage.setItem("ticketd.session", `+js(string(raw))+`)`)(ctx, t)
			return err
		}))
}

func (p *page) open(path string) {
	p.t.Helper()
	p.do(chromedp.Navigate(site.URL + path))
}

// waitFor waits until the JavaScript predicate is true.
func (p *page) waitFor(what, predicate string, timeout time.Duration) {
	p.t.Helper()
	_, err := chromedp.Run(p.ctx, chromedp.Poll[chromedp.Void](predicate, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(100*time.Millisecond)))
	if err != nil {
		p.fail("waiting for %s: %v", what, err)
	}
}

// waitText waits until an element matching sel contains text.
func (p *page) waitText(sel, text string) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf("%q in %s", text, sel),
		fmt.Sprintf(`[...document.querySelectorAll(%s)].some(e => e.innerText.includes(%s))`, js(sel), js(text)), 30*time.Second)
}

func (p *page) hasText(sel, text string) bool {
	p.t.Helper()
	ok, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`[...document.querySelectorAll(%s)].some(e => e.innerText.includes(%s))`, js(sel), js(text))))
	if err != nil {
		p.fail("%v", err)
	}
	return ok
}

var marks int

// mark tags the first element matching sel whose text (or label) is text, and
// returns a CSS selector for it, so that chromedp can act on it with real
// mouse and key events.
func (p *page) mark(sel, text string) chromedp.CSS {
	p.t.Helper()
	marks++
	id := fmt.Sprintf("m%d", marks)
	expr := fmt.Sprintf(`(() => {
		const want = %s;
		const label = e => (e.innerText || "").trim() + "|" + (e.getAttribute("aria-label") || "") + "|" +
			(e.labels && e.labels[0] ? e.labels[0].innerText.trim() : "");
		const el = [...document.querySelectorAll(%s)].find(e => label(e).split("|").some(s => s === want || (want !== "" && s.startsWith(want))));
		if (!el) return false;
		el.setAttribute("data-test-mark", %s);
		return true;
	})()`, js(text), js(sel), js(id))
	p.waitFor(fmt.Sprintf("%s %q", sel, text), expr, 30*time.Second)
	return chromedp.CSS(fmt.Sprintf(`[data-test-mark=%q]`, id))
}

// click activates the element as a user's click does. It dispatches the
// click on the element itself rather than at screen coordinates, because a
// live update may move the page between finding the element and clicking.
func (p *page) click(sel, text string) {
	p.t.Helper()
	m := p.mark(sel, text)
	p.do(chromedp.WaitVisible(m), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.scrollIntoView({block: "center"}); e.click(); })()`, js(string(m))))(ctx, t)
		return err
	}))
}

func (p *page) typeInto(label, text string) {
	p.t.Helper()
	p.do(chromedp.SendKeys(p.mark("input, textarea", label), text, chromedp.NodeVisible))
}

// key presses a key on the page's body (outside any field).
func (p *page) key(k string) {
	p.t.Helper()
	p.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`)(ctx, t)
		return err
	}), chromedp.KeyEvent(k))
}

// selectAll selects the text of the focused field, so that typing replaces it.
func (p *page) selectAll() {
	p.t.Helper()
	p.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[chromedp.Void](`document.activeElement.select()`)(ctx, t)
		return err
	}))
}

func (p *page) screenshot(name string) {
	p.t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.fail("screenshot: %v", err)
	}
	dir := p.t.TempDir()
	if os.Getenv("UPDATE_SCREENSHOTS") == "1" {
		dir = filepath.Join("..", "docs", "screenshots")
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// axe runs axe-core in the page and fails on serious or critical violations.
func (p *page) axe(screen string) {
	p.t.Helper()
	src, err := os.ReadFile(filepath.Join("node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		p.t.Fatalf("axe-core is missing (%v): run `cd web && npm ci`", err)
	}
	type violation struct {
		ID, Impact, Help string
		Nodes            []string
	}
	res, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]violation](string(src)+`;
		axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations
			.filter(v => v.impact === "serious" || v.impact === "critical")
			.map(v => ({ID: v.id, Impact: v.impact, Help: v.help, Nodes: v.nodes.slice(0, 5).map(n => n.html)})))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		p.fail("axe on %s: %v", screen, err)
	}
	for _, v := range res {
		p.t.Errorf("axe on %s: %s (%s): %s\n  %s", screen, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n  "))
	}
	axeScreens[screen] = len(res)
}

var axeScreens = map[string]int{}

// api calls the API as who and returns the decoded body.
func api(t *testing.T, who person, method, path string, body any, want int, headers ...string) map[string]any {
	t.Helper()
	r := stack.Do(t, method, path, who.Token, body, headers...)
	if r.Status != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	if len(r.Body) == 0 {
		return nil
	}
	return r.Map(t)
}
