package api

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"

	"github.com/ticketd/ticketd/models"
	"github.com/ticketd/ticketd/monitoring"
)

// Token claims: the contract pins these.
const (
	TokenIssuer   = "ticketd"
	TokenAudience = "ticketd-api"
)

// IssueToken signs an HS256 token for userID, valid for ttl.
func IssueToken(secret []byte, userID string, ttl time.Duration, now time.Time) (string, error) {
	claims := jwt.RegisteredClaims{
		Issuer:    TokenIssuer,
		Audience:  jwt.ClaimStrings{TokenAudience},
		Subject:   userID,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

var errUnauthenticated = errors.New("unauthenticated")

// authenticator verifies bearer tokens and loads the caller.
type authenticator struct {
	secret []byte
	users  interface {
		GetUser(ctx context.Context, id string) (models.User, error)
	}
	parser *jwt.Parser
}

func newAuthenticator(secret []byte, users interface {
	GetUser(ctx context.Context, id string) (models.User, error)
}) *authenticator {
	return &authenticator{
		secret: secret,
		users:  users,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(TokenIssuer),
			jwt.WithAudience(TokenAudience),
			jwt.WithExpirationRequired(),
			jwt.WithLeeway(5*time.Second),
		),
	}
}

// authenticate returns the active user a request's token names.
func (a *authenticator) authenticate(ctx context.Context, header string) (models.User, error) {
	scheme, raw, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return models.User{}, fmt.Errorf("%w: missing bearer token", errUnauthenticated)
	}
	var claims jwt.RegisteredClaims
	if _, err := a.parser.ParseWithClaims(strings.TrimSpace(raw), &claims, func(*jwt.Token) (any, error) {
		return a.secret, nil
	}); err != nil {
		return models.User{}, fmt.Errorf("%w: %w", errUnauthenticated, err)
	}
	if !isUUID(claims.Subject) {
		return models.User{}, fmt.Errorf("%w: bad subject", errUnauthenticated)
	}
	u, err := a.users.GetUser(ctx, claims.Subject)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return models.User{}, fmt.Errorf("%w: unknown user", errUnauthenticated)
	case err != nil:
		return models.User{}, err
	case !u.Active:
		return models.User{}, fmt.Errorf("%w: inactive user", errUnauthenticated)
	}
	return u, nil
}

const userKey = "ticketd.user"

func (s *Server) requireAuth(c *gin.Context) {
	u, err := s.auth.authenticate(c.Request.Context(), c.GetHeader("Authorization"))
	if err != nil {
		if c.GetHeader("Authorization") != "" && errors.Is(err, errUnauthenticated) && !s.allowAnonymous(c) {
			c.Abort() // a bad token counts against its address, like no token
			return
		}
		s.fail(c, err)
		c.Abort()
		return
	}
	c.Set(userKey, u)
	monitoring.AddLogAttrs(c.Request.Context(), "user_id", u.ID)
	c.Next()
}

func caller(c *gin.Context) models.User {
	u, _ := c.Get(userKey)
	return u.(models.User)
}
