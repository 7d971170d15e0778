package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ticketd/ticketd/models"
)

// demoPasswordFile keeps the demo users' password in the data dir, so that
// it stays the same across restarts of one dev installation and differs
// between installations.
const demoPasswordFile = "demo-password"

// demoPassword reads the data dir's demo password, making one on first use.
func demoPassword(dataDir string) (string, error) {
	path := filepath.Join(dataDir, demoPasswordFile)
	b, err := os.ReadFile(path)
	if err == nil {
		if pw := strings.TrimSpace(string(b)); models.CheckPasswordLength(pw) == "" {
			return pw, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read demo password: %w", err)
	}
	pw := "demo-" + strings.ToLower(rand.Text()[:12])
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", fmt.Errorf("write demo password: %w", err)
	}
	if err := os.WriteFile(path, []byte(pw+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write demo password: %w", err)
	}
	return pw, nil
}

// ensureDemoPassword gives a demo user without a password the demo
// password, and says what to print: the password, or that the user changed
// it.
func ensureDemoPassword(ctx context.Context, store *models.Store, u models.User, pw string) (string, error) {
	hash, err := store.PasswordHash(ctx, u.ID)
	if err != nil {
		return "", err
	}
	if hash == "" {
		hash, err = models.HashPassword(pw, models.DefaultPasswordParams)
		if err != nil {
			return "", err
		}
		return pw, store.SetPasswordHash(ctx, u.ID, hash)
	}
	if ok, _ := models.VerifyPassword(pw, hash); !ok {
		return "(changed since; reset with `ticketd user passwd`)", nil
	}
	return pw, nil
}
