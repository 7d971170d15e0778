package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ticketd/ticketd/models"
)

func (s *Server) getUser(c *gin.Context) {
	if !caller(c).Role.IsStaff() {
		s.fail(c, forbidden("only agents and admins look up users"))
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
	writeJSON(c, http.StatusOK, u)
}

func (s *Server) getCategory(c *gin.Context) {
	id := c.Param("id")
	if !isUUID(id) {
		s.fail(c, models.ErrNotFound)
		return
	}
	cat, err := s.store.GetCategory(c.Request.Context(), strings.ToLower(id))
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, cat)
}
