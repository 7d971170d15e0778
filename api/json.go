package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

// decode reads a JSON body strictly into dst, a pointer to a struct: the
// body must be one JSON object; unknown fields, wrong types, null for a
// field that is not an Optional and trailing data are 400s; a body over
// the limit the guard middleware set is a 413.
func decode(c *gin.Context, dst any) error {
	if c.Request.Body == nil {
		return decodeError(io.EOF)
	}
	raw, err := io.ReadAll(c.Request.Body)
	if err != nil {
		return decodeError(err)
	}
	trimmed := trimJSONSpace(raw)
	if len(trimmed) == 0 {
		return decodeError(io.EOF)
	}
	if trimmed[0] != '{' {
		return badRequestf("request body must be a JSON object")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &fields); err != nil {
		return decodeError(err)
	}
	for name, v := range fields {
		optional, known := topField(dst, name)
		if !known {
			// encoding/json would take "Subject" or "nAme" for a field;
			// the contract's names are exact.
			return badRequestf("unknown field %q", name)
		}
		if bytes.Equal(trimJSONSpace(v), []byte("null")) && !optional {
			return decodeError(&nullError{field: name})
		}
	}
	return strictUnmarshal(trimmed, dst)
}

// trimJSONSpace trims the four characters JSON counts as whitespace:
// bytes.TrimSpace would also take a vertical tab or a form feed, which make
// a body invalid JSON.
func trimJSONSpace(b []byte) []byte { return bytes.Trim(b, " \t\r\n") }

func strictUnmarshal(b []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequestf("body must hold exactly one JSON object")
	}
	return nil
}

// topField looks up the field of dst whose JSON name is exactly name, and
// reports whether it is known and whether it accepts null (only Optional
// fields do). A dst that is not a struct knows every name.
func topField(dst any, name string) (optional, known bool) {
	t := reflect.TypeOf(dst)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return true, true
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == name {
			return strings.HasPrefix(f.Type.Name(), "Optional["), true
		}
	}
	return false, false
}

func decodeError(err error) error {
	var (
		syntax  *json.SyntaxError
		typ     *json.UnmarshalTypeError
		tooBig  *http.MaxBytesError
		nullErr *nullError
	)
	switch {
	case errors.Is(err, io.EOF):
		return badRequestf("request body is empty; a JSON object is required")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return badRequestf("request body is not valid JSON")
	case errors.As(err, &typ):
		if typ.Field != "" {
			return badRequestf("field %q must be of JSON type %s", typ.Field, jsonType(typ.Type.Kind().String()))
		}
		return badRequestf("request body must be a JSON object")
	case errors.As(err, &tooBig):
		return &tooLarge{limit: tooBig.Limit}
	case errors.As(err, &nullErr):
		return badRequestf("field %q must not be null", nullErr.field)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badRequestf("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		return badRequestf("request body could not be read: %s", err.Error())
	}
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "int", "int64", "int32", "float64":
		return "number"
	case "slice":
		return "array"
	default:
		return "object"
	}
}

// nullError is a null for a field that must not be null.
type nullError struct{ field string }

func (e *nullError) Error() string { return "null field " + e.field }

// Optional is a JSON field that may be absent, null or a value; partial
// updates need all three.
type Optional[T any] struct {
	Set   bool // present in the body
	Null  bool // present and null
	Value T
}

// UnmarshalJSON records presence and nullness, and decodes the value as
// strictly as the body around it.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if bytes.Equal(trimJSONSpace(b), []byte("null")) {
		o.Null = true
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(&o.Value)
}

// Ptr is the value, or nil when absent or null.
func (o Optional[T]) Ptr() *T {
	if !o.Set || o.Null {
		return nil
	}
	v := o.Value
	return &v
}

func jsonEncode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeJSON sends v with status.
func writeJSON(c *gin.Context, status int, v any) {
	c.Header("Content-Type", "application/json; charset=utf-8")
	c.Status(status)
	c.Writer.WriteHeaderNow()
	_ = jsonEncode(c.Writer, v)
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

func quoteETag(version int64) string { return fmt.Sprintf(`"%d"`, version) }
