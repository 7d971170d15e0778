package api

import (
	"errors"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/ticketd/ticketd/models"
)

func (s *Server) me(c *gin.Context) { writeJSON(c, http.StatusOK, caller(c)) }

type userPage struct {
	Items      []models.User `json:"items"`
	NextCursor *string       `json:"next_cursor"`
}

func (s *Server) listUsers(c *gin.Context) {
	if !caller(c).Role.IsStaff() {
		s.fail(c, forbidden("only agents and admins list users"))
		return
	}
	q := c.Request.URL.Query()
	v := &models.ValidationError{}
	f := models.UserFilter{Limit: 20}
	for name, values := range q {
		switch {
		case name != "role" && name != "active" && name != "limit" && name != "cursor":
			v.Add(name, "is not a known query parameter")
		case len(values) > 1:
			v.Add(name, "must be given once")
		}
	}
	if q.Has("role") {
		f.Role = models.Role(q.Get("role"))
		if !f.Role.Valid() {
			v.Add("role", "must be customer, agent or admin")
		}
	}
	if q.Has("active") {
		b, err := strconv.ParseBool(q.Get("active"))
		if err != nil {
			v.Add("active", "must be true or false")
		}
		f.Active = &b
	}
	if q.Has("limit") {
		f.Limit = parseLimit(v, q.Get("limit"))
	}
	if err := v.Err(); err != nil {
		s.fail(c, err)
		return
	}
	if q.Has("cursor") {
		cur, err := models.DecodeCursor(q.Get("cursor"), "users")
		if err != nil || cur == nil {
			s.fail(c, badRequestf("cursor is not valid for this list"))
			return
		}
		f.After = cur
	}
	users, next, err := s.store.ListUsers(c.Request.Context(), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	page := userPage{Items: users}
	if page.Items == nil {
		page.Items = []models.User{}
	}
	if next != nil {
		enc := next.Encode()
		page.NextCursor = &enc
	}
	writeJSON(c, http.StatusOK, page)
}

type userBody struct {
	Email  *string      `json:"email"`
	Name   *string      `json:"name"`
	Role   *models.Role `json:"role"`
	Active *bool        `json:"active"`
}

// checkUser validates the fields present in b onto u.
func checkUser(v *models.ValidationError, b userBody, u *models.User, creating bool) {
	if b.Email != nil || creating {
		email := checkText(v, "email", b.Email, 254, true)
		if b.Email != nil {
			if a, err := mail.ParseAddress(email); err != nil || a.Address != email || !strings.Contains(email, "@") {
				v.Add("email", "must be a plain email address")
			}
			u.Email = strings.ToLower(email)
		}
	}
	if b.Name != nil || creating {
		if name := checkText(v, "name", b.Name, 200, true); b.Name != nil {
			u.Name = name
		}
	}
	if b.Role != nil || creating {
		switch {
		case b.Role == nil:
			v.Add("role", "is required")
		case !b.Role.Valid():
			v.Add("role", "must be customer, agent or admin")
		default:
			u.Role = *b.Role
		}
	}
	if b.Active != nil {
		u.Active = *b.Active
	}
}

func (s *Server) createUser(c *gin.Context) {
	if caller(c).Role != models.RoleAdmin {
		s.fail(c, forbidden("only admins create users"))
		return
	}
	var b userBody
	if err := decode(c, &b); err != nil {
		s.fail(c, err)
		return
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	u := models.User{ID: uuid.Must(uuid.NewV7()).String(), Active: true, CreatedAt: now, UpdatedAt: now}
	v := &models.ValidationError{}
	checkUser(v, b, &u, true)
	if err := v.Err(); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.store.CreateUser(c.Request.Context(), &u); err != nil {
		s.fail(c, emailTaken(err))
		return
	}
	c.Header("Location", "/api/v1/users/"+u.ID)
	writeJSON(c, http.StatusCreated, u)
}

func emailTaken(err error) error {
	if errors.Is(err, models.ErrConflict) {
		return conflict("a user with this email already exists")
	}
	return err
}

func (s *Server) updateUser(c *gin.Context) {
	me := caller(c)
	if me.Role != models.RoleAdmin {
		s.fail(c, forbidden("only admins change users"))
		return
	}
	id := c.Param("id")
	if !isUUID(id) {
		s.fail(c, models.ErrNotFound)
		return
	}
	u, err := s.store.GetUser(c.Request.Context(), strings.ToLower(id))
	if err != nil {
		s.fail(c, err)
		return
	}
	var b userBody
	if err := decode(c, &b); err != nil {
		s.fail(c, err)
		return
	}
	v := &models.ValidationError{}
	if b.Email == nil && b.Name == nil && b.Role == nil && b.Active == nil {
		v.Add("", "name at least one of email, name, role, active")
	}
	checkUser(v, b, &u, false)
	if u.ID == me.ID && (u.Role != models.RoleAdmin || !u.Active) {
		v.Add("role", "admins cannot demote or deactivate themselves")
	}
	if err := v.Err(); err != nil {
		s.fail(c, err)
		return
	}
	u.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
	if err := s.store.UpdateUser(c.Request.Context(), &u); err != nil {
		s.fail(c, emailTaken(err))
		return
	}
	writeJSON(c, http.StatusOK, u)
}

type categoryBody struct {
	Name *string `json:"name"`
}

func (s *Server) listCategories(c *gin.Context) {
	cs, err := s.store.ListCategories(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, listOf[models.Category]{Items: cs})
}

func (s *Server) createCategory(c *gin.Context) {
	if caller(c).Role != models.RoleAdmin {
		s.fail(c, forbidden("only admins create categories"))
		return
	}
	var b categoryBody
	if err := decode(c, &b); err != nil {
		s.fail(c, err)
		return
	}
	v := &models.ValidationError{}
	name := strings.TrimSpace(checkText(v, "name", b.Name, 100, true))
	if err := v.Err(); err != nil {
		s.fail(c, err)
		return
	}
	cat := models.Category{ID: uuid.Must(uuid.NewV7()).String(), Name: name, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	if err := s.store.CreateCategory(c.Request.Context(), &cat); err != nil {
		if errors.Is(err, models.ErrConflict) {
			err = conflict("a category with this name already exists")
		}
		s.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/categories/"+cat.ID)
	writeJSON(c, http.StatusCreated, cat)
}
